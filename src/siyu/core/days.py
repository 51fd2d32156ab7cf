"""Days as the ops team counts them: Asia/Shanghai calendar days.

Every "today", daily cap, day filter and per-day chart starts its day here, whatever the
server's or the request's time zone is, so counts agree across pages, the API and jobs.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

# The console shows and counts days in China Standard Time (settings.TIME_ZONE); no DST.
SHANGHAI = ZoneInfo("Asia/Shanghai")


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day` in Asia/Shanghai, timezone-aware."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)


def day_range(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """`[start of first, start of the day after last)`: both days included."""
    return day_start(first), day_start(last + dt.timedelta(days=1))


def local_day(moment: dt.datetime) -> dt.date:
    """The Asia/Shanghai day `moment` falls on."""
    return moment.astimezone(SHANGHAI).date()


def start_of_day(moment: dt.datetime) -> dt.datetime:
    """Midnight of `moment`'s Asia/Shanghai day (daily caps reset there)."""
    return day_start(local_day(moment))
