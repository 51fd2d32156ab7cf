"""The customers hub's own segment fields (人群条件): follow relations (still a friend, staff
accounts, first added, last engaged), profile (phone, birthday month) and the brand's custom
fields; plus the building blocks other apps' fields use (`column_field`, `date_column`,
`compare_q`/`compare`). Tags, lifecycle and channels register their fields from their own apps.

Each SQL builder and its Python predicate must agree for every operator, including missing
values (a customer never added has no `first_added_at`; a custom field may be unset): the
hypothesis tests in `tests/segments/test_rules_equivalence.py` hold them to it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import StaffAccount
from siyu.core.days import day_start
from siyu.core.models import Workspace
from siyu.customers.models import CustomField, FieldKind, FollowRelation
from siyu.customers.segmentation import (
    Base,
    Context,
    CustomerSnapshot,
    Op,
    Predicate,
    QBuilder,
    SegmentField,
    register,
    register_provider,
)

GROUP_PROFILE = _("Profile")
GROUP_RELATION = _("Relation")
GROUP_SCORE = _("Lifecycle & score")
GROUP_CUSTOM = _("Custom fields")


# --- shared comparisons ------------------------------------------------------------------------

def compare_q(path: str, op: str, value: Any) -> Q:
    if op == Op.EQ:
        return Q(**{path: value})
    if op == Op.GTE:
        return Q(**{f"{path}__gte": value})
    if op == Op.LTE:
        return Q(**{f"{path}__lte": value})
    if op == Op.BETWEEN:
        return Q(**{f"{path}__gte": value[0], f"{path}__lte": value[1]})
    if op == Op.BEFORE:
        return Q(**{f"{path}__lt": value})
    if op == Op.SINCE:
        return Q(**{f"{path}__gte": value})
    if op == Op.IN:
        return Q(**{f"{path}__in": value})
    if op == Op.CONTAINS:
        return Q(**{f"{path}__icontains": value})
    raise ValueError(op)


def compare(x: Any, op: str, value: Any) -> bool:
    if op == Op.NOT_IN:
        return x is None or x not in value
    if x is None:
        return False
    if op == Op.EQ:
        return bool(x == value)
    if op == Op.GTE:
        return bool(x >= value)
    if op == Op.LTE:
        return bool(x <= value)
    if op == Op.BETWEEN:
        return bool(value[0] <= x <= value[1])
    if op == Op.BEFORE:
        return bool(x < value)
    if op == Op.SINCE:
        return bool(x >= value)
    if op == Op.IN:
        return x in value
    if op == Op.CONTAINS:
        return str(value).lower() in str(x).lower()
    raise ValueError(op)


def column_field(key: str, label: Any, base: str, operators: tuple[str, ...], column: str, group: Any, **extra: Any) -> SegmentField:
    """A field read from one non-null column of the customer row."""

    def to_q(op: str, value: Any, ctx: Context) -> Q:
        return ~Q(**{f"{column}__in": value}) if op == Op.NOT_IN else compare_q(column, op, value)

    def test(snap: CustomerSnapshot, op: str, value: Any, ctx: Context) -> bool:
        return compare(getattr(snap, column), op, value)

    return SegmentField(key=key, label=label, base=base, operators=operators, to_q=to_q, test=test, group=group, **extra)


# --- dates: a datetime column compared by days in the brand's time zone -------------------------

DATE_OPS = (Op.BEFORE, Op.SINCE, Op.BETWEEN, Op.WITHIN_DAYS)

def _day_start(day: str) -> dt.datetime:
    return day_start(dt.date.fromisoformat(day))


def _bounds(op: str, value: Any, ctx: Context) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[low, high) for a day condition on a moment."""
    if op == Op.BEFORE:
        return None, _day_start(value)
    if op == Op.SINCE:
        return _day_start(value), None
    if op == Op.BETWEEN:
        return _day_start(value[0]), _day_start(value[1]) + dt.timedelta(days=1)
    if op == Op.WITHIN_DAYS:
        return ctx.now - dt.timedelta(days=value), None
    raise ValueError(op)


def date_column(column: str) -> tuple[QBuilder, Predicate]:
    """A datetime column compared with a date condition; a customer without the date never matches."""

    def to_q(op: str, value: Any, ctx: Context) -> Q:
        low, high = _bounds(op, value, ctx)
        q = Q(**{f"{column}__isnull": False})
        if low is not None:
            q &= Q(**{f"{column}__gte": low})
        if high is not None:
            q &= Q(**{f"{column}__lt": high})
        return q

    def test(snap: CustomerSnapshot, op: str, value: Any, ctx: Context) -> bool:
        at = getattr(snap, column)
        if at is None:
            return False
        low, high = _bounds(op, value, ctx)
        return (low is None or at >= low) and (high is None or at < high)

    return to_q, test


# --- follow relations: still a friend, staff accounts ------------------------------------------

def active_follows(**filters: Any) -> Exists:
    return Exists(FollowRelation.unscoped.filter(customer_id=OuterRef("pk"), deleted_at__isnull=True, **filters))


def _following_q(op: str, value: Any, ctx: Context) -> Q:
    found = Q(active_follows())
    return found if value else ~found


def _following_test(snap: CustomerSnapshot, op: str, value: Any, ctx: Context) -> bool:
    return any(f.active for f in snap.follows) == value


def _account_options(workspace: Workspace) -> list[tuple[Any, str]]:
    return [(a.pk, str(a.name or a.userid)) for a in StaffAccount.objects.for_workspace(workspace).order_by("userid")]


def _accounts_q(op: str, value: Any, ctx: Context) -> Q:
    if op == Op.ANY:
        return Q(active_follows(account_id__in=value))
    if op == Op.NONE:
        return ~Q(active_follows(account_id__in=value))
    q = Q()
    for account_id in value:
        q &= Q(active_follows(account_id=account_id))
    return q


def _accounts_test(snap: CustomerSnapshot, op: str, value: Any, ctx: Context) -> bool:
    followed = {f.account_id for f in snap.follows if f.active}
    wanted = set(value)
    if op == Op.ANY:
        return bool(followed & wanted)
    if op == Op.ALL:
        return wanted <= followed
    return not followed & wanted


# --- profile -----------------------------------------------------------------------------------

def _has_phone_q(op: str, value: Any, ctx: Context) -> Q:
    return ~Q(phone="") if value else Q(phone="")


def _has_phone_test(snap: CustomerSnapshot, op: str, value: Any, ctx: Context) -> bool:
    return bool(snap.phone) == value


def _month_options(workspace: Workspace) -> list[tuple[Any, str]]:
    return [(m, str(m)) for m in range(1, 13)]


def _birthday_q(op: str, value: Any, ctx: Context) -> Q:
    return Q(birthday__isnull=False, birthday__month__in=value)


def _birthday_test(snap: CustomerSnapshot, op: str, value: Any, ctx: Context) -> bool:
    return snap.birthday is not None and snap.birthday.month in value


# --- custom fields (Customer.fields[key]) -------------------------------------------------------

_CUSTOM_OPS = {
    FieldKind.TEXT: (Op.EQ, Op.CONTAINS, Op.IN),
    FieldKind.NUMBER: (Op.EQ, Op.GTE, Op.LTE, Op.BETWEEN),
    FieldKind.DATE: (Op.EQ, Op.BEFORE, Op.SINCE, Op.BETWEEN),
    FieldKind.CHOICE: (Op.IN, Op.NOT_IN),
}
_CUSTOM_BASE = {FieldKind.TEXT: Base.TEXT, FieldKind.NUMBER: Base.NUMBER, FieldKind.DATE: Base.DATE,
                FieldKind.CHOICE: Base.CHOICE}


def _valid_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def custom_field(cf: CustomField) -> SegmentField:
    """The segment field of one custom field. Values are compared as JSON (numbers as numbers,
    dates as ISO text), so the same lookups run on SQLite and PostgreSQL; an unset value (key
    absent) matches nothing but `is none of`."""
    path = f"fields__{cf.key}"
    kind = FieldKind(cf.kind)

    def to_q(op: str, value: Any, ctx: Context) -> Q:
        if op == Op.NOT_IN:
            return ~Q(**{f"{path}__in": value}) | Q(**{f"{path}__isnull": True})
        return compare_q(path, op, value)

    def test(snap: CustomerSnapshot, op: str, value: Any, ctx: Context) -> bool:
        x = snap.fields.get(cf.key)
        if kind == FieldKind.NUMBER and x is not None and not _valid_number(x):
            return False
        if kind != FieldKind.NUMBER and x is not None and not isinstance(x, str):
            return op == Op.NOT_IN
        return compare(x, op, value)

    choices = [(c, str(c)) for c in cf.choices] if kind == FieldKind.CHOICE else None
    return SegmentField(
        key=f"field.{cf.key}", label=cf.label, base=_CUSTOM_BASE[kind], operators=_CUSTOM_OPS[kind],
        to_q=to_q, test=test, group=GROUP_CUSTOM, options=(lambda workspace: choices) if choices is not None else None,
    )


def _custom_fields(workspace: Workspace) -> list[SegmentField]:
    return [custom_field(cf) for cf in CustomField.objects.for_workspace(workspace)]


# --- registration ------------------------------------------------------------------------------

def register_customer_fields() -> None:
    register(SegmentField(
        key="following", label=_("Still a friend of any account"), base=Base.BOOL, operators=(Op.IS,),
        to_q=_following_q, test=_following_test, group=GROUP_RELATION))
    register(SegmentField(
        key="accounts", label=_("Staff accounts"), base=Base.ACCOUNT, operators=(Op.ANY, Op.ALL, Op.NONE),
        to_q=_accounts_q, test=_accounts_test, options=_account_options, group=GROUP_RELATION,
        help=_("Followed (still a friend) by these staff accounts.")))
    added_q, added_test = date_column("first_added_at")
    register(SegmentField(key="added_at", label=_("First added"), base=Base.DATE, operators=DATE_OPS,
                          to_q=added_q, test=added_test, group=GROUP_RELATION))
    engaged_q, engaged_test = date_column("last_engaged_at")
    register(SegmentField(
        key="last_engaged", label=_("Last engaged"), base=Base.DATE, operators=DATE_OPS, to_q=engaged_q,
        test=engaged_test, group=GROUP_SCORE,
        help=_("The customer's latest own action: a customer group joined, a welfare redeemed. "
               "Customers who never did one do not match.")))
    register(SegmentField(
        key="has_phone", label=_("Has a phone number"), base=Base.BOOL, operators=(Op.IS,),
        to_q=_has_phone_q, test=_has_phone_test, group=GROUP_PROFILE))
    register(SegmentField(
        key="birthday_month", label=_("Birthday month"), base=Base.CHOICE, operators=(Op.IN,),
        to_q=_birthday_q, test=_birthday_test, options=_month_options, group=GROUP_PROFILE))
    register_provider(_custom_fields)
