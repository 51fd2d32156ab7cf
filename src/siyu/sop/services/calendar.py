"""工作日与免打扰 — when a customer step may fire: outside quiet hours (default 22:00–08:00,
Asia/Shanghai) and, if the SOP says so, on a working day.

Working days come from `chinese-calendar` (statutory holidays and the weekend days made working
days around them, so "next working day" is right at 春节). The package only knows the years it
was released for; for any other year we fall back to Monday–Friday and say so in a note.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import chinese_calendar  # type: ignore[import-untyped]  # ships no type hints

SHANGHAI = ZoneInfo("Asia/Shanghai")
FALLBACK_NOTE = "calendar unknown for {year}: Mon-Fri"


@dataclass(frozen=True)
class Hours:
    quiet_start: dt.time
    quiet_end: dt.time
    working_days_only: bool


def is_working_day(day: dt.date) -> tuple[bool, str]:
    """(working day?, note): the note is set when the holiday calendar did not know the year."""
    try:
        return bool(chinese_calendar.is_workday(day)), ""
    except NotImplementedError:
        return day.weekday() < 5, FALLBACK_NOTE.format(year=day.year)


def in_quiet_hours(at: dt.datetime, hours: Hours) -> bool:
    t = at.astimezone(SHANGHAI).time()
    start, end = hours.quiet_start, hours.quiet_end
    if start == end:
        return False  # no quiet hours
    if start < end:
        return start <= t < end
    return t >= start or t < end  # spans midnight


def next_allowed(at: dt.datetime, hours: Hours) -> tuple[dt.datetime, str]:
    """The first instant at or after `at` outside quiet hours and, if asked, on a working day;
    with the calendar's note when it had to guess a year."""
    local = at.astimezone(SHANGHAI)
    note = ""
    for _ in range(60):  # the longest run of holidays is far shorter
        if in_quiet_hours(local, hours):
            end = dt.datetime.combine(local.date(), hours.quiet_end, SHANGHAI)
            local = end if end > local else end + dt.timedelta(days=1)
        if not hours.working_days_only:
            return local, note
        working, day_note = is_working_day(local.date())
        note = note or day_note
        if working:
            return local, note
        start_of_day = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), SHANGHAI)
        local = max(start_of_day, dt.datetime.combine(start_of_day.date(), local.time(), SHANGHAI))
    return local, note
