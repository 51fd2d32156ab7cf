"""Bounds on values from outside (API parameters and bodies, console forms, segment rules), so an
edge value is refused with a message instead of failing deeper down with a 500:

- whole numbers fit a 64-bit database integer (PostgreSQL `bigint`, SQLite `INTEGER`);
- numbers are finite (JSON's `1e400` parses as infinity);
- days lie between `EARLIEST_DAY` and `LATEST_DAY`, so day arithmetic (the day after, a day's
  start in Asia/Shanghai converted to UTC) never leaves Python's date range (years 1 to 9999);
- text holds no NUL character (PostgreSQL cannot store one) and no unpaired surrogate such as
  JSON's `"\\ud800"` (not valid UTF-8: no database stores it, no page can render it);
- a page number is at most `MAX_PAGE`, so the row offset it makes fits the database too.

`problems` checks a whole value (a body, a rule) at once; the API applies it to every request's
parameters (`siyu.api`), forms use the validators, and services that read raw values (segment
rules, date ranges typed as text) call the checks themselves.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from pydantic import BaseModel

INT_MIN = -(2**63)  # a 64-bit signed integer: PostgreSQL's bigint, SQLite's INTEGER
INT_MAX = 2**63 - 1
EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(2999, 12, 31)
MAX_PAGE = 100_000  # numbered pages: at 100 rows a page, an offset of 10 million rows at most
NUMBER_LIMIT = 10**15  # numbers compared with stored figures (segment rules): exact in a double


def int_problem(value: int) -> str | None:
    if INT_MIN <= value <= INT_MAX:
        return None
    return _("Enter a whole number between %(low)s and %(high)s.") % {"low": INT_MIN, "high": INT_MAX}


def number_problem(value: float | Decimal) -> str | None:
    if isinstance(value, Decimal):
        return None if value.is_finite() else _("Enter a finite number.")
    return None if math.isfinite(value) else _("Enter a finite number.")


def day_problem(value: dt.date) -> str | None:
    day = value.date() if isinstance(value, dt.datetime) else value
    if EARLIEST_DAY <= day <= LATEST_DAY:
        return None
    return _("Enter a date between %(earliest)s and %(latest)s.") % {
        "earliest": EARLIEST_DAY.isoformat(), "latest": LATEST_DAY.isoformat()}


def text_problem(value: str) -> str | None:
    if "\x00" in value:
        return _("Remove the NUL character (U+0000) from this text: it cannot be stored.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("Remove the unpaired surrogate (U+D800 to U+DFFF) from this text: it is not valid Unicode.")
    return None


def problem(value: Any) -> str | None:
    """What is wrong with one plain value (a number, a day, a text), or None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return int_problem(value)
    if isinstance(value, (float, Decimal)):
        return number_problem(value)
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, dt.date):
        return day_problem(value)
    return None


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def problems(value: Any, path: str = "") -> dict[str, list[str]]:
    """Every out-of-bounds value inside `value` (dicts, lists, pydantic models, nested), by dotted
    path (`"body.rule.rules.0.value"`; `"__all__"` for the value itself). Walked without recursion,
    so a deeply nested JSON body cannot exhaust the stack."""
    found: dict[str, list[str]] = {}
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, Mapping):
            for key, inner in item.items():
                key_problem = text_problem(key) if isinstance(key, str) else None
                if key_problem:
                    found.setdefault(where or "__all__", []).append(key_problem)
                    continue
                stack.append((_join(where, key), inner))
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend((_join(where, index), inner) for index, inner in enumerate(item))
        elif isinstance(item, BaseModel):
            stack.extend((_join(where, name), getattr(item, name, None)) for name in type(item).model_fields)
        else:
            message = problem(item)
            if message:
                found.setdefault(where or "__all__", []).append(message)
    return found


def check(value: Any, field: str | None = None) -> None:
    """Raise ValidationError (on `field`, when given) if anything inside `value` is out of bounds."""
    found = problems(value)
    if not found:
        return
    messages = list(dict.fromkeys(m for ms in found.values() for m in ms))
    raise ValidationError({field: messages} if field else messages)


def parse_id(text: object) -> int | None:
    """A database id sent as text (a form's value), or None: ASCII digits only (`"²".isdigit()`
    is true, yet int() cannot read it) and at most `INT_MAX`."""
    value = str(text)
    if not (value.isascii() and value.isdecimal()) or len(value) > len(str(INT_MAX)):
        return None
    number = int(value)
    return number if number <= INT_MAX else None


# --- Django form validators ----------------------------------------------------------------------

def validate_day(value: dt.date | None) -> None:
    message = day_problem(value) if value is not None else None
    if message:
        raise ValidationError(message, code="out_of_range")


def validate_id(value: int | None) -> None:
    message = int_problem(value) if value is not None else None
    if message:
        raise ValidationError(message, code="out_of_range")
