"""人群字段注册表 — the fields a segment rule may test, and how each is evaluated.

A rule condition is `{"field": key, "op": operator, "value": ...}`. Each `SegmentField` knows
its operators, how to check a value (`clean`), how to turn a condition into a Django `Q` over
`customers.Customer` (`to_q`, evaluated in SQL, fast at a million customers), and the same test
as a pure Python predicate over a `CustomerSnapshot` (`test`, used by the brute-force tests that
keep both in agreement).

The engine lives in `siyu.segments`; the registry lives here, in the customers hub, so that the
apps owning the data (customers, tags, lifecycle, channels, …) register their own fields without
depending on the engine. An app names its registering function in its contract
(`SiyuApp.segment_fields`), which runs once, the first time the registry is read:

    def register() -> None:
        register_field(SegmentField(key="orders.count", label=_("Orders"), base=Base.NUMBER,
                                    operators=(Op.GTE, Op.LTE, Op.BETWEEN), to_q=..., test=...,
                                    load=lambda workspace, ids: {...}))  # fills snapshot.extra

or registers a provider whose fields depend on the brand (custom fields do):
`register_provider(lambda workspace: [...])`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.core import bounds
from siyu.core.contract import siyu_apps
from siyu.core.models import Workspace


class Op:
    """Operator keys (stable: stored in rules)."""

    ANY = "any"            # has any of (tags, accounts)
    ALL = "all"            # has all of
    NONE = "none"          # has none of
    IN = "in"
    NOT_IN = "not_in"
    EQ = "eq"
    CONTAINS = "contains"
    GTE = "gte"
    LTE = "lte"
    BETWEEN = "between"    # inclusive
    BEFORE = "before"      # strictly before the day
    SINCE = "since"        # on or after the day
    WITHIN_DAYS = "within_days"
    IS = "is"


OPERATOR_LABELS: dict[str, Promise] = {
    Op.ANY: gettext_lazy("has any of"),
    Op.ALL: gettext_lazy("has all of"),
    Op.NONE: gettext_lazy("has none of"),
    Op.IN: gettext_lazy("is one of"),
    Op.NOT_IN: gettext_lazy("is none of"),
    Op.EQ: gettext_lazy("equals"),
    Op.CONTAINS: gettext_lazy("contains"),
    Op.GTE: gettext_lazy("at least"),
    Op.LTE: gettext_lazy("at most"),
    Op.BETWEEN: gettext_lazy("between"),
    Op.BEFORE: gettext_lazy("before"),
    Op.SINCE: gettext_lazy("on or after"),
    Op.WITHIN_DAYS: gettext_lazy("within the last N days"),
    Op.IS: gettext_lazy("is"),
}

LIST_OPS = frozenset({Op.ANY, Op.ALL, Op.NONE, Op.IN, Op.NOT_IN})


class Base:
    """What a field's values are; decides the console widget and how values are checked."""

    TAG = "tag"          # Tag ids of the brand
    ACCOUNT = "account"  # StaffAccount ids of the brand
    TEXT = "text"
    CHOICE = "choice"    # one of `options`
    NUMBER = "number"
    DATE = "date"        # ISO day "YYYY-MM-DD"
    BOOL = "bool"


@dataclass(frozen=True)
class Context:
    """What evaluation depends on besides the customer: the brand and the moment (relative
    dates such as "within the last 7 days" are measured from `now`; the nightly recompute
    moves them on)."""

    workspace: Workspace
    now: dt.datetime


@dataclass
class FollowSnapshot:
    account_id: int
    state: str
    active: bool


@dataclass
class CustomerSnapshot:
    """A customer as plain values, for the Python predicates."""

    id: int
    first_added_at: dt.datetime | None = None
    last_engaged_at: dt.datetime | None = None
    phone: str = ""
    birthday: dt.date | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    stage: str = "new"
    score: float = 0.0
    tier: str = ""
    is_angel: bool = False
    tag_completeness: float = 0.0
    tag_ids: frozenset[int] = frozenset()
    follows: list[FollowSnapshot] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # filled by fields' `load`


QBuilder = Callable[[str, Any, Context], Q]
Predicate = Callable[[CustomerSnapshot, str, Any, Context], bool]
Options = Callable[[Workspace], list[tuple[Any, str]]]
Loader = Callable[[Workspace, list[int]], dict[int, Any]]


@dataclass(frozen=True)
class SegmentField:
    """One field a condition may test. `options` lists (value, label) pairs for choice, tag
    and account fields (also used to check values); `load`, for fields whose data lives in
    another app, returns {customer_id: value} put in `snapshot.extra[key]`."""

    key: str
    label: Promise | str
    base: str
    operators: tuple[str, ...]
    to_q: QBuilder
    test: Predicate
    options: Options | None = None
    load: Loader | None = None
    group: Promise | str = ""
    help: Promise | str = ""
    minimum: float | None = None
    maximum: float | None = None
    order: int = 100  # where the rule builder lists it; equal orders keep registration order

    def clean(self, workspace: Workspace, op: str, value: Any) -> Any:
        """The value, normalised; ValidationError (with a message a person understands) if not."""
        known = ({v for v, _label in self.options(workspace)}
                 if self.options is not None and self.base in (Base.TAG, Base.ACCOUNT, Base.CHOICE) else None)
        if op not in self.operators:
            raise ValidationError(_("“%(field)s” cannot be tested with “%(op)s”.")
                                  % {"field": self.label, "op": OPERATOR_LABELS.get(op, op)})
        if op in LIST_OPS:
            if not isinstance(value, list) or not value:
                raise ValidationError(_("Choose at least one value for “%(field)s”.") % {"field": self.label})
            if len(value) > 500:
                raise ValidationError(_("Choose at most 500 values for “%(field)s”.") % {"field": self.label})
            cleaned = [self._scalar(v, known) for v in value]
            return list(dict.fromkeys(cleaned))
        if op == Op.BETWEEN:
            if not isinstance(value, list) or len(value) != 2:
                raise ValidationError(_("Give a lowest and a highest value for “%(field)s”.") % {"field": self.label})
            low, high = self._scalar(value[0], known), self._scalar(value[1], known)
            if high < low:
                raise ValidationError(_("The lowest value of “%(field)s” is above the highest.") % {"field": self.label})
            return [low, high]
        if op == Op.WITHIN_DAYS:
            days = _number(value, self.label)
            if days != int(days) or not 1 <= days <= 3650:
                raise ValidationError(_("Give a whole number of days from 1 to 3650 for “%(field)s”.")
                                      % {"field": self.label})
            return int(days)
        if op == Op.IS:
            if not isinstance(value, bool):
                raise ValidationError(_("Choose yes or no for “%(field)s”.") % {"field": self.label})
            return value
        return self._scalar(value, known)

    def _scalar(self, value: Any, known: set[Any] | None) -> Any:
        if self.base == Base.NUMBER:
            number = _number(value, self.label)
            if (self.minimum is not None and number < self.minimum) or (
                    self.maximum is not None and number > self.maximum):
                raise ValidationError(_("“%(field)s” goes from %(low)s to %(high)s.")
                                      % {"field": self.label, "low": self.minimum, "high": self.maximum})
            return number
        if self.base == Base.DATE:
            if not isinstance(value, str):
                raise ValidationError(_("Give a date such as 2025-06-30 for “%(field)s”.") % {"field": self.label})
            try:
                day = dt.date.fromisoformat(value.strip())
            except ValueError:
                raise ValidationError(_("“%(value)s” is not a date such as 2025-06-30.") % {"value": value}) from None
            out_of_range = bounds.day_problem(day)  # the day after 9999-12-31 does not exist
            if out_of_range:
                raise ValidationError(f"“{self.label}”: {out_of_range}")
            return day.isoformat()
        if self.base in (Base.TAG, Base.ACCOUNT):
            chosen = bounds.parse_id(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else None
            if chosen is None:
                raise ValidationError(_("“%(value)s” is not a known choice for “%(field)s”.")
                                      % {"value": value, "field": self.label})
            value = chosen
        if self.base == Base.TEXT:
            if not isinstance(value, str) or not value.strip() or len(value) > 200:
                raise ValidationError(_("Give a text of 1 to 200 characters for “%(field)s”.") % {"field": self.label})
            return value.strip()
        if known is not None and value not in known:
            raise ValidationError(_("“%(value)s” is not a known choice for “%(field)s”.")
                                  % {"value": value, "field": self.label})
        return value


def _number(value: Any, label: Any) -> float:
    if isinstance(value, bool):
        raise ValidationError(_("Give a number for “%(field)s”.") % {"field": label})
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):  # float(10**400) overflows
        raise ValidationError(_("Give a number for “%(field)s”.") % {"field": label}) from None
    if not math.isfinite(number):
        raise ValidationError(_("Give a number for “%(field)s”.") % {"field": label})
    if abs(number) >= bounds.NUMBER_LIMIT:  # 1e30 as an integer overflows any database column
        raise ValidationError(_("Give a number between -%(limit)s and %(limit)s for “%(field)s”.")
                              % {"field": label, "limit": f"{bounds.NUMBER_LIMIT:,}"})
    return int(number) if number == int(number) else number


_fields: dict[str, SegmentField] = {}
_providers: list[Callable[[Workspace], Iterable[SegmentField]]] = []


def register(segment_field: SegmentField) -> SegmentField:
    """Add (or replace, by key) a field every brand's rules may use."""
    _fields[segment_field.key] = segment_field
    return segment_field


def register_provider(provider: Callable[[Workspace], Iterable[SegmentField]]) -> None:
    """Add a source of brand-specific fields (e.g. one per custom field)."""
    if provider not in _providers:
        _providers.append(provider)


_apps_loaded = False


def _load_app_fields() -> None:
    """Run each installed app's registering function once (its contract's `segment_fields`)."""
    global _apps_loaded
    if _apps_loaded:
        return
    for app in siyu_apps():
        if app.segment_fields:
            import_string(app.segment_fields)()
    _apps_loaded = True


def shared_fields() -> dict[str, SegmentField]:
    """The fields every brand has (those of providers aside), by key."""
    _load_app_fields()
    return dict(_fields)


def fields_for(workspace: Workspace) -> dict[str, SegmentField]:
    """Every field this brand's rules may use, by key: by `order`, then registration order."""
    _load_app_fields()
    found = dict(_fields)
    for provider in _providers:
        for item in provider(workspace):
            found[item.key] = item
    return dict(sorted(found.items(), key=lambda pair: pair[1].order))


def describe(workspace: Workspace) -> list[dict[str, Any]]:
    """The registry as the rule builder reads it: fields, their operators and options."""
    return [
        {
            "key": f.key, "label": str(f.label), "base": f.base, "group": str(f.group), "help": str(f.help),
            "operators": [{"key": op, "label": str(OPERATOR_LABELS[op])} for op in f.operators],
            "options": [{"value": v, "label": str(label)} for v, label in (f.options(workspace) if f.options else [])],
        }
        for f in fields_for(workspace).values()
    ]
