"""打卡 — check-ins: one a day per customer and plan, streaks, tiered bonuses and make-up cards.

The day is the plan's local day (Asia/Shanghai, `core.days.local_day`), whatever the phone's or
the server's time zone: a check-in at 23:59 and one at 00:01 Beijing time are two days, one at
01:00 UTC is the same day as 08:59 Beijing time. A streak counts consecutive days; a missed day
breaks it unless the customer fills it with a make-up card (补签卡), when the plan allows them.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.core.auditing import AuditAction, audit_change, model_changes, snapshot
from siyu.core.days import local_day
from siyu.core.models import Workspace
from siyu.core.permissions import Seat
from siyu.customers.models import Customer
from siyu.customers.services import add_timeline
from siyu.points.models import Checkin, CheckinMode, CheckinPlan, Source
from siyu.points.services.common import MODULE, PointsError, require_edit
from siyu.points.services.ledger import grant, lock_wallet
from siyu.points.timeline import PointsTimeline

MAX_TIERS = 10
MAX_TIER_DAY = 366
MAX_POINTS = 100_000


@dataclass(frozen=True)
class Tier:
    day: int  # the streak's (or the month's) n-th day
    points: int  # the bonus on that day


def tiers_of(plan: CheckinPlan) -> list[Tier]:
    return sorted((Tier(int(t["day"]), int(t["points"])) for t in plan.tiers or []), key=lambda t: t.day)


def parse_tiers(text: str) -> list[Tier]:
    """`"3:20, 7:50"` → tiers; a `ValidationError` on `tiers` naming what is wrong."""
    tiers: dict[int, Tier] = {}
    for part in (p.strip() for p in text.replace("，", ",").replace("：", ":").split(",")):
        if not part:
            continue
        try:
            day_text, points_text = part.split(":")
            day, points = int(day_text), int(points_text)
        except ValueError as exc:
            raise ValidationError({"tiers": _("Write each tier as day:points, e.g. 3:20, 7:50.")}) from exc
        if not (1 <= day <= MAX_TIER_DAY and 1 <= points <= MAX_POINTS):
            raise ValidationError({"tiers": _("Days run from 1 to 366 and points from 1 to 100,000.")})
        if day in tiers:
            raise ValidationError({"tiers": _("Day %(day)s appears twice.") % {"day": day}})
        tiers[day] = Tier(day, points)
    if len(tiers) > MAX_TIERS:
        raise ValidationError({"tiers": _("At most 10 tiers.")})
    return sorted(tiers.values(), key=lambda t: t.day)


def tiers_text(plan: CheckinPlan) -> str:
    return ", ".join(f"{t.day}:{t.points}" for t in tiers_of(plan))


def bonus_for(plan: CheckinPlan, streak: int, days_this_month: int) -> int:
    """The tier bonus a check-in earns: on the streak's tier days (the cycle restarts after the
    longest tier, as 7-day check-in cards do), or on the month's n-th check-in."""
    tiers = tiers_of(plan)
    if not tiers or plan.mode == CheckinMode.DAILY:
        return 0
    if plan.mode == CheckinMode.STREAK:
        cycle = tiers[-1].day
        position = (streak - 1) % cycle + 1
        return sum(t.points for t in tiers if t.day == position)
    return sum(t.points for t in tiers if t.day == days_this_month)


def plan_of(workspace: Workspace) -> CheckinPlan | None:
    """The brand's own check-in plan (groups' plans come with the community module)."""
    return CheckinPlan.objects.for_workspace(workspace).filter(group_chat_id="").first()


@dataclass(frozen=True)
class PlanInput:
    name: str
    mode: str
    daily_points: int
    tiers: list[Tier]
    make_up_cards: int
    active: bool


AUDITED_PLAN_FIELDS = ("name", "mode", "daily_points", "tiers", "make_up_cards", "active")


def save_plan(workspace: Workspace, membership: Seat | None, data: PlanInput) -> CheckinPlan:
    """Create or change the brand's check-in plan; audit-logged."""
    require_edit(membership)
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = _("Give the plan a name.")
    if not 0 <= data.daily_points <= MAX_POINTS:
        errors["daily_points"] = _("Points a day run from 0 to 100,000.")
    if not 0 <= data.make_up_cards <= 31:
        errors["make_up_cards"] = _("At most 31 make-up cards a month.")
    if data.mode not in CheckinMode.values:
        errors["mode"] = _("Choose a mode.")
    if data.mode != CheckinMode.DAILY and not data.tiers:
        errors["tiers"] = _("A continuous or cumulative plan needs at least one tier.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        plan = plan_of(workspace)
        created = plan is None
        plan = plan or CheckinPlan(workspace=workspace, group_chat_id="")
        before = snapshot(plan, AUDITED_PLAN_FIELDS) if not created else {}
        plan.name, plan.mode, plan.daily_points = data.name.strip()[:60], data.mode, data.daily_points
        plan.tiers = [{"day": t.day, "points": t.points} for t in data.tiers]
        plan.make_up_cards, plan.active = data.make_up_cards, data.active
        plan.save()
        if created:
            audit_change(workspace, membership, AuditAction.CREATED, module=MODULE,
                         subject=gettext_lazy("check-in plan"), name=plan.name)
        else:
            audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE,
                         subject=gettext_lazy("check-in plan"), name=plan.name,
                         changes=model_changes(before, plan, AUDITED_PLAN_FIELDS))
    return plan


# --- checking in ------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckedIn:
    checkin: Checkin
    new: bool  # False: already checked in that day, nothing credited again
    bonus: int = 0


def _month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    return first, first.replace(day=calendar.monthrange(day.year, day.month)[1])


def _ref(plan: CheckinPlan, customer_id: int, day: dt.date) -> str:
    return f"{plan.pk}:{customer_id}:{day.isoformat()}"


def check_in(workspace: Workspace, plan: CheckinPlan, customer_id: int, now: dt.datetime | None = None) -> CheckedIn:
    """Check the customer in for today (Asia/Shanghai): points a day plus any tier bonus, credited
    once; a second check-in the same day changes nothing."""
    now = now or timezone.now()
    if not plan.active:
        raise PointsError(_("Check-ins are closed right now."))
    day = local_day(now)
    rows = Checkin.objects.for_workspace(workspace).filter(plan=plan, customer_id=customer_id)
    existing = rows.filter(day=day).first()
    if existing is not None:
        return CheckedIn(existing, False)
    try:
        with transaction.atomic():
            wallet = lock_wallet(workspace, customer_id)  # one customer's check-ins and make-ups in turn
            previous = rows.filter(day=day - dt.timedelta(days=1)).first()
            streak = previous.streak + 1 if previous else 1
            first, last = _month_bounds(day)
            this_month = rows.filter(day__range=(first, last)).count() + 1
            bonus = bonus_for(plan, streak, this_month)
            points = plan.daily_points + bonus
            checkin = Checkin.objects.create(workspace=workspace, plan=plan, customer_id=customer_id, day=day, at=now,
                                             streak=streak, points=points)
            if points:
                reason = (_("Check-in, day %(streak)s of a streak, bonus %(bonus)s") % {"streak": streak, "bonus": bonus}
                          if bonus else _("Check-in"))
                grant(workspace, customer_id, points, Source.CHECKIN, _ref(plan, customer_id, day), reason=reason, now=now,
                      wallet=wallet)
    except IntegrityError:
        return CheckedIn(rows.get(day=day), False)
    add_timeline(workspace, Customer(pk=customer_id, workspace=workspace), PointsTimeline.CHECKED_IN, now,
                 detail=f"{plan.name} · {points}", dedupe_key=f"checkin:{checkin.pk}")
    return CheckedIn(checkin, True, bonus)


def cards_left(workspace: Workspace, plan: CheckinPlan, customer_id: int, today: dt.date) -> int:
    first, last = _month_bounds(today)
    used = Checkin.objects.for_workspace(workspace).filter(plan=plan, customer_id=customer_id, made_up=True,
                                                           day__range=(first, last)).count()
    return max(plan.make_up_cards - used, 0)


def make_up(workspace: Workspace, plan: CheckinPlan, customer_id: int, day: dt.date,
            now: dt.datetime | None = None) -> CheckedIn:
    """Fill a missed day of this month with a make-up card: the day's points (no bonus), and the
    streak runs through it, so the days after it count on from it."""
    now = now or timezone.now()
    today = local_day(now)
    if not plan.active:
        raise PointsError(_("Check-ins are closed right now."))
    if not plan.make_up_cards:
        raise PointsError(_("This plan has no make-up cards."))
    if not (day < today and day.replace(day=1) == today.replace(day=1)):
        raise PointsError(_("Only a missed day earlier this month can be made up."))
    rows = Checkin.objects.for_workspace(workspace).filter(plan=plan, customer_id=customer_id)
    try:
        with transaction.atomic():
            lock_wallet(workspace, customer_id)
            if rows.filter(day=day).exists():
                raise PointsError(_("That day is already checked in."))
            if cards_left(workspace, plan, customer_id, today) <= 0:
                raise PointsError(_("No make-up cards left this month."))
            previous = rows.filter(day=day - dt.timedelta(days=1)).first()
            streak = previous.streak + 1 if previous else 1
            checkin = Checkin.objects.create(workspace=workspace, plan=plan, customer_id=customer_id, day=day, at=now,
                                             streak=streak, made_up=True, points=plan.daily_points)
            following = list(rows.filter(day__gt=day).order_by("day").values_list("pk", "day"))
            chained = []
            for offset, (pk, later) in enumerate(following, start=1):
                if later != day + dt.timedelta(days=offset):
                    break
                chained.append(pk)
            if chained:
                Checkin.unscoped.filter(pk__in=chained).update(streak=F("streak") + streak)
            if plan.daily_points:
                grant(workspace, customer_id, plan.daily_points, Source.CHECKIN, _ref(plan, customer_id, day),
                      reason=_("Check-in with a make-up card"), now=now)
    except IntegrityError as exc:
        raise PointsError(_("That day is already checked in.")) from exc
    return CheckedIn(checkin, True)


@dataclass(frozen=True)
class CalendarDay:
    day: dt.date | None  # None: a blank before the 1st or after the last
    state: str = ""  # "checked", "made_up", "missed" (may be made up), "today", "future", "past"


@dataclass(frozen=True)
class CheckinMonth:
    plan: CheckinPlan
    today: dt.date
    checked_today: bool
    streak: int
    days_this_month: int
    cards_left: int
    weeks: list[list[CalendarDay]]
    next_bonus: Tier | None  # the next tier the customer reaches by checking in on


def month_of(workspace: Workspace, plan: CheckinPlan, customer_id: int, now: dt.datetime | None = None) -> CheckinMonth:
    """The fan's check-in page: today, the streak, and this month's calendar (Monday first)."""
    today = local_day(now or timezone.now())
    first, last = _month_bounds(today)
    rows = Checkin.objects.for_workspace(workspace).filter(plan=plan, customer_id=customer_id)
    # One read: the month, and yesterday when it is the last day of the month before.
    held = {c.day: c for c in rows.filter(day__range=(min(first, today - dt.timedelta(days=1)), last))}
    month = {d: c for d, c in held.items() if d >= first}
    current = held.get(today) or held.get(today - dt.timedelta(days=1))
    streak = current.streak if current else 0
    left = max(plan.make_up_cards - sum(1 for c in month.values() if c.made_up), 0)  # as `cards_left` counts
    weeks: list[list[CalendarDay]] = []
    week: list[CalendarDay] = [CalendarDay(None)] * first.weekday()
    for n in range(1, last.day + 1):
        day = first.replace(day=n)
        found = month.get(day)
        if found is not None:
            state = "made_up" if found.made_up else "checked"
        elif day == today:
            state = "today"
        elif day > today:
            state = "future"
        else:
            state = "missed" if left and plan.make_up_cards else "past"
        week.append(CalendarDay(day, state))
        if len(week) == 7:
            weeks.append(week)
            week = []
    if week:
        weeks.append(week + [CalendarDay(None)] * (7 - len(week)))
    checked_today = today in month
    upcoming = streak + (0 if checked_today else 1) if plan.mode == CheckinMode.STREAK else len(month) + (0 if checked_today else 1)
    tiers = tiers_of(plan)
    next_bonus = None
    if tiers and plan.mode != CheckinMode.DAILY:
        position = (upcoming - 1) % tiers[-1].day + 1 if plan.mode == CheckinMode.STREAK else upcoming
        next_bonus = next((t for t in tiers if t.day >= position), None)
    return CheckinMonth(plan, today, checked_today, streak, len(month), left, weeks, next_bonus)
