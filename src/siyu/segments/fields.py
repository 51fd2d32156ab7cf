"""The segment fields of the customers module (人群条件): tags, channel, staff accounts, added
date, lifecycle stage, score, tier, angel users, tag completeness, phone, birthday month and the
brand's custom fields. Registered when the segments app loads; see `registry` for the contract.

Each SQL builder and its Python predicate must agree for every operator, including missing
values (a customer never added has no `first_added_at`; a custom field may be unset): the
hypothesis tests in `tests/segments/test_rules_equivalence.py` hold them to it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.core.models import Workspace
from siyu.customers.models import CustomField, FieldKind, FollowRelation, LifecycleStage
from siyu.segments.registry import (
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
from siyu.tags.models import CustomerTag, Tag

GROUP_PROFILE = _("Profile")
GROUP_RELATION = _("Relation")
GROUP_SCORE = _("Lifecycle & score")
GROUP_CUSTOM = _("Custom fields")


# --- shared comparisons ------------------------------------------------------------------------

def _compare_q(path: str, op: str, value: Any) -> Q:
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


def _compare(x: Any, op: str, value: Any) -> bool:
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


def _column(key: str, label: Any, base: str, operators: tuple[str, ...], column: str, group: Any, **extra: Any) -> SegmentField:
    """A field read from one non-null column of the customer row."""

    def to_q(op: str, value: Any, ctx: Context) -> Q:
        return ~Q(**{f"{column}__in": value}) if op == Op.NOT_IN else _compare_q(column, op, value)

    def test(snap: CustomerSnapshot, op: str, value: Any, ctx: Context) -> bool:
        return _compare(getattr(snap, column), op, value)

    return SegmentField(key=key, label=label, base=base, operators=operators, to_q=to_q, test=test, group=group, **extra)


# --- added date: a datetime column compared by days in the brand's time zone --------------------

def _day_start(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time.min, tzinfo=timezone.get_default_timezone())


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


def _date_column(column: str) -> tuple[QBuilder, Predicate]:
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


# --- tags --------------------------------------------------------------------------------------

def _tag_options(workspace: Workspace) -> list[tuple[Any, str]]:
    tags = Tag.objects.for_workspace(workspace).filter(deleted_at__isnull=True).select_related("group")
    return [(t.pk, f"{t.group.name} / {t.name}") for t in tags.order_by("group__order", "group_id", "-order", "id")]


def _has_tags(ids: list[int]) -> Exists:
    return Exists(CustomerTag.unscoped.filter(customer_id=OuterRef("pk"), tag_id__in=ids))


def _tags_q(op: str, value: Any, ctx: Context) -> Q:
    if op == Op.ANY:
        return Q(_has_tags(value))
    if op == Op.NONE:
        return ~Q(_has_tags(value))
    q = Q()
    for tag_id in value:  # Op.ALL: one semi-join per tag, each served by the (tag, customer) index
        q &= Q(_has_tags([tag_id]))
    return q


def _tags_test(snap: CustomerSnapshot, op: str, value: Any, ctx: Context) -> bool:
    wanted = set(value)
    if op == Op.ANY:
        return bool(snap.tag_ids & wanted)
    if op == Op.ALL:
        return wanted <= snap.tag_ids
    return not snap.tag_ids & wanted


# --- follow relations: channel, staff accounts -------------------------------------------------

def _active_follows(**filters: Any) -> Exists:
    return Exists(FollowRelation.unscoped.filter(customer_id=OuterRef("pk"), deleted_at__isnull=True, **filters))


def _channel_options(workspace: Workspace) -> list[tuple[Any, str]]:
    try:
        from siyu.channels.models import ChannelCode
    except ImportError:  # pragma: no cover - channels is optional for the segments app
        return []
    return [(state, name) for state, name in
            ChannelCode.objects.for_workspace(workspace).order_by("name").values_list("state", "name")]


def _channel_q(op: str, value: Any, ctx: Context) -> Q:
    found = Q(_active_follows(state__in=value))
    return found if op == Op.IN else ~found


def _channel_test(snap: CustomerSnapshot, op: str, value: Any, ctx: Context) -> bool:
    found = any(f.active and f.state in value for f in snap.follows)
    return found if op == Op.IN else not found


def _following_q(op: str, value: Any, ctx: Context) -> Q:
    found = Q(_active_follows())
    return found if value else ~found


def _following_test(snap: CustomerSnapshot, op: str, value: Any, ctx: Context) -> bool:
    return any(f.active for f in snap.follows) == value


def _account_options(workspace: Workspace) -> list[tuple[Any, str]]:
    from siyu.accounts.models import StaffAccount

    return [(a.pk, str(a.name or a.userid)) for a in StaffAccount.objects.for_workspace(workspace).order_by("userid")]


def _accounts_q(op: str, value: Any, ctx: Context) -> Q:
    if op == Op.ANY:
        return Q(_active_follows(account_id__in=value))
    if op == Op.NONE:
        return ~Q(_active_follows(account_id__in=value))
    q = Q()
    for account_id in value:
        q &= Q(_active_follows(account_id=account_id))
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


def _stage_options(workspace: Workspace) -> list[tuple[Any, str]]:
    return [(v, str(label)) for v, label in LifecycleStage.choices]


def _angel_q(op: str, value: Any, ctx: Context) -> Q:
    return Q(is_angel=value)


def _angel_test(snap: CustomerSnapshot, op: str, value: Any, ctx: Context) -> bool:
    return snap.is_angel == value


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
        return _compare_q(path, op, value)

    def test(snap: CustomerSnapshot, op: str, value: Any, ctx: Context) -> bool:
        x = snap.fields.get(cf.key)
        if kind == FieldKind.NUMBER and x is not None and not _valid_number(x):
            return False
        if kind != FieldKind.NUMBER and x is not None and not isinstance(x, str):
            return op == Op.NOT_IN
        return _compare(x, op, value)

    choices = [(c, str(c)) for c in cf.choices] if kind == FieldKind.CHOICE else None
    return SegmentField(
        key=f"field.{cf.key}", label=cf.label, base=_CUSTOM_BASE[kind], operators=_CUSTOM_OPS[kind],
        to_q=to_q, test=test, group=GROUP_CUSTOM, options=(lambda workspace: choices) if choices is not None else None,
    )


def _custom_fields(workspace: Workspace) -> list[SegmentField]:
    return [custom_field(cf) for cf in CustomField.objects.for_workspace(workspace)]


# --- registration ------------------------------------------------------------------------------

def register_builtin_fields() -> None:
    register(SegmentField(
        key="tags", label=_("Tags"), base=Base.TAG, operators=(Op.ANY, Op.ALL, Op.NONE),
        to_q=_tags_q, test=_tags_test, options=_tag_options, group=GROUP_RELATION))
    register(SegmentField(
        key="channel", label=_("Channel (active friend)"), base=Base.TEXT, operators=(Op.IN, Op.NOT_IN),
        to_q=_channel_q, test=_channel_test, options=_channel_options, group=GROUP_RELATION,
        help=_("The channel code state of a follow relation that is still a friend.")))
    register(SegmentField(
        key="following", label=_("Still a friend of any account"), base=Base.BOOL, operators=(Op.IS,),
        to_q=_following_q, test=_following_test, group=GROUP_RELATION))
    register(SegmentField(
        key="accounts", label=_("Staff accounts"), base=Base.ACCOUNT, operators=(Op.ANY, Op.ALL, Op.NONE),
        to_q=_accounts_q, test=_accounts_test, options=_account_options, group=GROUP_RELATION,
        help=_("Followed (still a friend) by these staff accounts.")))
    dates = (Op.BEFORE, Op.SINCE, Op.BETWEEN, Op.WITHIN_DAYS)
    added_q, added_test = _date_column("first_added_at")
    register(SegmentField(key="added_at", label=_("First added"), base=Base.DATE, operators=dates,
                          to_q=added_q, test=added_test, group=GROUP_RELATION))
    engaged_q, engaged_test = _date_column("last_engaged_at")
    register(SegmentField(
        key="last_engaged", label=_("Last engaged"), base=Base.DATE, operators=dates, to_q=engaged_q,
        test=engaged_test, group=GROUP_SCORE,
        help=_("The customer's latest own action: a customer group joined, a welfare redeemed. "
               "Customers who never did one do not match.")))
    register(_column("stage", _("Lifecycle stage"), Base.CHOICE, (Op.IN, Op.NOT_IN), "stage", GROUP_SCORE,
                     options=_stage_options))
    register(_column("score", _("Super-user score"), Base.NUMBER, (Op.GTE, Op.LTE, Op.BETWEEN), "score",
                     GROUP_SCORE, minimum=0, maximum=100))
    register(_column("tier", _("Tier"), Base.TEXT, (Op.IN, Op.NOT_IN), "tier", GROUP_SCORE))
    register(SegmentField(
        key="angel", label=_("Angel user"), base=Base.BOOL, operators=(Op.IS,),
        to_q=_angel_q, test=_angel_test, group=GROUP_SCORE))
    register(_column("tag_completeness", _("Tag completeness (0–1)"), Base.NUMBER, (Op.GTE, Op.LTE, Op.BETWEEN),
                     "tag_completeness", GROUP_SCORE, minimum=0, maximum=1))
    register(SegmentField(
        key="has_phone", label=_("Has a phone number"), base=Base.BOOL, operators=(Op.IS,),
        to_q=_has_phone_q, test=_has_phone_test, group=GROUP_PROFILE))
    register(SegmentField(
        key="birthday_month", label=_("Birthday month"), base=Base.CHOICE, operators=(Op.IN,),
        to_q=_birthday_q, test=_birthday_test, options=_month_options, group=GROUP_PROFILE))
    register_provider(_custom_fields)
