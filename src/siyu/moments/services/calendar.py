"""The persona's calendar (朋友圈日历): a month of posts by day, and the warnings a planner needs
before it is too late — two posts that collide (within `COLLIDE_HOURS` of each other for the same
persona and an overlapping visible range) and days of the coming week with nothing planned."""

from __future__ import annotations

import calendar as cal
import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from siyu.core.models import Workspace
from siyu.core.permissions import Seat
from siyu.ip.models import Persona
from siyu.moments.models import MomentPost, PostStatus
from siyu.moments.services.common import require_view

COLLIDE_HOURS = 3
LOOK_AHEAD_DAYS = 7
LIVE = (PostStatus.SCHEDULED, PostStatus.POSTING, PostStatus.POSTED)  # drafts and failures post nothing


@dataclass
class Day:
    date: dt.date
    in_month: bool
    posts: list[MomentPost] = field(default_factory=list)
    empty_warning: bool = False


@dataclass
class Collision:
    first: MomentPost
    second: MomentPost
    hours: float


@dataclass
class Calendar:
    persona: Persona
    month: dt.date  # its first day
    weeks: list[list[Day]]
    collisions: list[Collision]
    empty_days: list[dt.date]

    @property
    def days_with_posts(self) -> list[Day]:
        return [d for week in self.weeks for d in week if d.in_month and d.posts]

    @property
    def colliding_ids(self) -> set[int]:
        return {p.pk for c in self.collisions for p in (c.first, c.second)}


def _overlap(a: MomentPost, b: MomentPost) -> bool:
    """Whether some customer can see both: no sender list means every staff member, no tags every customer."""
    senders = not a.sender_ids or not b.sender_ids or bool(set(a.sender_ids) & set(b.sender_ids))
    tags = not a.tag_ids or not b.tag_ids or bool(set(a.tag_ids) & set(b.tag_ids))
    return senders and tags


def collisions(posts: list[MomentPost], hours: int = COLLIDE_HOURS) -> list[Collision]:
    """Pairs of live posts (sorted by time) within `hours` of each other with overlapping ranges."""
    live = sorted((p for p in posts if p.status in LIVE), key=lambda p: (p.planned_at, p.pk))
    found = []
    window = dt.timedelta(hours=hours)
    for i, a in enumerate(live):
        for b in live[i + 1:]:
            if b.planned_at - a.planned_at >= window:
                break
            if _overlap(a, b):
                found.append(Collision(a, b, round((b.planned_at - a.planned_at).total_seconds() / 3600, 1)))
    return found


def empty_days(posts: list[MomentPost], today: dt.date, days: int = LOOK_AHEAD_DAYS) -> list[dt.date]:
    """Days from today through the coming `days` with no live post."""
    planned = {timezone.localtime(p.planned_at).date() for p in posts if p.status in LIVE}
    return [d for d in (today + dt.timedelta(n) for n in range(days)) if d not in planned]


def month_calendar(workspace: Workspace, membership: Seat | None, persona_id: int, month: dt.date,
                   now: dt.datetime | None = None, hours: int = COLLIDE_HOURS) -> Calendar:
    """The persona's month, Monday first, with its warnings (collisions in the month shown and
    the coming week, empty days of the coming week)."""
    require_view(membership)
    persona = Persona.objects.for_workspace(workspace).get(pk=persona_id)
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    first = month.replace(day=1)
    grid = cal.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    start, end = min(grid[0][0], today), max(grid[-1][-1], today + dt.timedelta(LOOK_AHEAD_DAYS))
    tz = timezone.get_current_timezone()
    posts = list(MomentPost.objects.for_workspace(workspace).filter(
        persona=persona,
        planned_at__gte=dt.datetime.combine(start, dt.time.min, tz) - dt.timedelta(hours=hours),
        planned_at__lt=dt.datetime.combine(end + dt.timedelta(1), dt.time.min, tz) + dt.timedelta(hours=hours),
    ).order_by("planned_at", "pk"))
    by_day: dict[dt.date, list[MomentPost]] = {}
    for post in posts:
        by_day.setdefault(timezone.localtime(post.planned_at).date(), []).append(post)
    gaps = empty_days(posts, today)
    weeks = [[Day(d, d.month == first.month, by_day.get(d, []), d in gaps) for d in week] for week in grid]
    return Calendar(persona, first, weeks, collisions(posts, hours), gaps)


def warnings_for(workspace: Workspace, post: MomentPost, hours: int = COLLIDE_HOURS) -> list[Collision]:
    """The posts a given post collides with (its detail page shows them)."""
    window = dt.timedelta(hours=hours)
    near = list(MomentPost.objects.for_workspace(workspace).filter(
        persona_id=post.persona_id, planned_at__gt=post.planned_at - window, planned_at__lt=post.planned_at + window,
        status__in=LIVE).order_by("planned_at", "pk"))
    if post.pk not in {p.pk for p in near}:
        return []
    return [c for c in collisions(near, hours) if post.pk in (c.first.pk, c.second.pk)]
