"""分流 — routing a channel code's scans among its staff accounts.

A WeCom multi-member contact way (type 2) picks among its `user` list by itself; the platform
cannot tell WeCom "every third add to 小完子02" or "skip her after 200 adds today". So the
platform does the choosing: time is cut into rotation slots (one per minute, the scheduler's
cadence), and for each slot `choose_accounts` names **one** account, which `apply_routing`
sets as the contact way's only member with `update_contact_way` (WECOM.md §3: other SCRMs
rotate from a 30 s cron the same way). Round-robin and weights are therefore exact over many
slots, approximate within one: every scan during a slot lands on that slot's account.

`choose_accounts` is a pure function of its arguments; `apply_routing` gathers the facts
(the seats, today's adds through the code's `state`) and talks to WeCom.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from siyu.channels.models import ChannelAccount, ChannelCode, RoutingStrategy
from siyu.core.days import SHANGHAI, start_of_day
from siyu.core.models import Workspace
from siyu.customers.models import FollowRelation
from siyu.wecom.client import ContactWayUpdate, WeComClient, WeComError
from siyu.wecom.services import client_for

logger = logging.getLogger("siyu.channels")

ROTATION_SLOT = dt.timedelta(minutes=1)  # matches the every-minute routing job
NOTE_MAX_CHARS = 200  # ChannelCode.routing_note


@dataclass(frozen=True)
class RoutingChoice:
    """The accounts a code's contact way should list now, and why, in the reader's words."""

    userids: tuple[str, ...]
    note: str
    chosen: bool = True  # False: nothing was eligible and the last assignment was kept


# --- shifts ------------------------------------------------------------------------------------

def parse_clock(value: str) -> dt.time | None:
    """"HH:MM" (24 h) as a time, or None when malformed."""
    try:
        hours, minutes = value.split(":")
        if len(hours) != 2 or len(minutes) != 2:
            return None
        return dt.time(int(hours), int(minutes))
    except (ValueError, AttributeError):
        return None


def on_shift(shifts: Sequence[Mapping[str, Any]], now: dt.datetime) -> bool:
    """Whether `now` (read in Asia/Shanghai) falls in one of the shifts; no shifts means always.
    A shift is `{"weekdays": [0..6] (Monday 0), "start": "HH:MM", "end": "HH:MM"}`, start
    included, end excluded; a night shift is written as two shifts."""
    if not shifts:
        return True
    local = now.astimezone(SHANGHAI)
    clock = local.time().replace(second=0, microsecond=0)
    for shift in shifts:
        weekdays = shift.get("weekdays") or list(range(7))
        start, end = parse_clock(str(shift.get("start", ""))), parse_clock(str(shift.get("end", "")))
        if start is None or end is None:
            continue
        if local.weekday() in weekdays and start <= clock < end:
            return True
    return False


# --- the choice ----------------------------------------------------------------------------------

def slot_of(now: dt.datetime) -> int:
    """The rotation slot `now` falls in: whole minutes since the epoch."""
    return int(now.timestamp() // ROTATION_SLOT.total_seconds())


def _weighted_sequence(weights: Sequence[int]) -> list[int]:
    """One cycle of a deterministic, well-interleaved weighted order: seat i appears weights[i]
    times, at the virtual times (j + 1/2) / weights[i] (stride scheduling), ties by seat order.
    Weights 3:1 give A A B A ..., never A A A B."""
    marks = [((j + 0.5) / w, i) for i, w in enumerate(weights) for j in range(w)]
    return [i for _at, i in sorted(marks)]


def _label(seat: ChannelAccount) -> str:
    return str(seat.account)


def _fill_of(seat: ChannelAccount, fill: Mapping[int, float] | None) -> float:
    if fill is not None and seat.account_id in fill:
        return fill[seat.account_id]
    return seat.account.fill_ratio


def why_not(seat: ChannelAccount, now: dt.datetime, adds_today: Mapping[int, int],
            fill: Mapping[int, float] | None = None) -> str | None:
    """Why this seat cannot take a new friend now, or None if it can."""
    if not seat.account.active:
        return _("left the corp")
    if _fill_of(seat, fill) >= 1.0:
        return pgettext("routing", "full")
    if not on_shift(seat.shifts or [], now):
        return _("off shift")
    if seat.daily_cap is not None and adds_today.get(seat.account_id, 0) >= seat.daily_cap:
        return _("daily cap reached")
    return None


def _pick(eligible: list[ChannelAccount], strategy: str, now: dt.datetime,
          fill: Mapping[int, float] | None) -> ChannelAccount:
    slot = slot_of(now)
    if strategy == RoutingStrategy.WEIGHTED:
        sequence = _weighted_sequence([max(1, seat.weight) for seat in eligible])
        return eligible[sequence[slot % len(sequence)]]
    if strategy == RoutingStrategy.LEAST_FILLED:
        return min(eligible, key=lambda seat: (_fill_of(seat, fill), seat.pk or 0, seat.account_id))
    return eligible[slot % len(eligible)]


def choose_accounts(
    seats: Sequence[ChannelAccount],
    strategy: str,
    now: dt.datetime,
    adds_today: Mapping[int, int],
    fill: Mapping[int, float] | None = None,
    *,
    previous: Sequence[str] = (),
) -> RoutingChoice:
    """The account a code routes to during the slot `now` falls in.

    `seats` are the code's ChannelAccounts (with `account` loaded), in their page order;
    `adds_today` counts today's adds through this code per account id (for daily caps);
    `fill` may give fresher fill ratios per account id than the account rows (else theirs).
    Accounts that left, are full, off shift or at their daily cap are skipped; when no regular
    account is left the backups are used by the same rules; when none at all is left the
    `previous` assignment stays and the note says why.
    """
    reasons: list[str] = []
    for backup in (False, True):
        group = [seat for seat in seats if seat.is_backup == backup]
        eligible = []
        for seat in group:
            why = why_not(seat, now, adds_today, fill)
            if why is None:
                eligible.append(seat)
            else:
                reasons.append(f"{_label(seat)} {why}")
        if not eligible:
            continue
        chosen = _pick(eligible, strategy, now, fill)
        label = RoutingStrategy(strategy).label if strategy in RoutingStrategy.values else strategy
        if backup:
            note = _("No regular account can take friends now; backup %(account)s takes over (%(strategy)s).")
        else:
            note = _("%(account)s takes this slot (%(strategy)s among %(count)s accounts).")
        note = note % {"account": _label(chosen), "strategy": label, "count": len(eligible)}
        if reasons:
            note += " " + _("Skipped: %(reasons)s.") % {"reasons": _("; ").join(reasons)}
        return RoutingChoice((chosen.account.userid,), note[:NOTE_MAX_CHARS])
    if not seats:
        note = _("The code has no accounts.")
    else:
        note = _("No account can take new friends (%(reasons)s); keeping the last assignment.") % {
            "reasons": _("; ").join(reasons)}
    return RoutingChoice(tuple(previous), note[:NOTE_MAX_CHARS], chosen=False)


# --- applying it -----------------------------------------------------------------------------------

def day_start(now: dt.datetime) -> dt.datetime:
    """Midnight of `now`'s day in Asia/Shanghai: daily caps reset there."""
    return start_of_day(now)


def adds_today_by_account(workspace: Workspace, codes: Sequence[ChannelCode], now: dt.datetime) -> dict[str, dict[int, int]]:
    """Friends each account made today through each code's state: {state: {account_id: n}}
    (one query for all the codes)."""
    rows = (FollowRelation.objects.for_workspace(workspace)
            .filter(state__in=[c.state for c in codes], added_at__gte=day_start(now), added_at__lte=now)
            .values("state", "account_id").annotate(n=Count("id")))
    counts: dict[str, dict[int, int]] = {}
    for row in rows:
        counts.setdefault(row["state"], {})[row["account_id"]] = row["n"]
    return counts


def seats_prefetch(workspace: Workspace) -> Prefetch:
    """`code.seats` with their accounts, scoped explicitly (tasks run without a request's workspace)."""
    return Prefetch("seats", queryset=ChannelAccount.objects.for_workspace(workspace).select_related("account"))


def seats_of(workspace: Workspace, code: ChannelCode) -> list[ChannelAccount]:
    return list(ChannelAccount.objects.for_workspace(workspace).filter(code=code).select_related("account"))


def choice_for(workspace: Workspace, code: ChannelCode, now: dt.datetime) -> RoutingChoice:
    """What the code should route to now, from the database's facts (no WeCom call)."""
    adds = adds_today_by_account(workspace, [code], now).get(code.state, {})
    return choose_accounts(seats_of(workspace, code), code.strategy, now, adds, previous=code.routed_userids)


def apply_routing(
    workspace: Workspace,
    code: ChannelCode,
    now: dt.datetime | None = None,
    *,
    client: WeComClient | None = None,
    seats: Sequence[ChannelAccount] | None = None,
    adds_today: Mapping[int, int] | None = None,
) -> RoutingChoice:
    """Route the code for the slot `now` falls in. WeCom's contact way is updated only when the
    accounts change, so running this every minute (and again on an add) is cheap and
    idempotent. Raises `WeComError` when WeCom refuses; nothing is stored then.

    `client`, `seats` and `adds_today` let a batch share one connection and two queries."""
    now = now or timezone.now()
    if seats is None:
        seats = seats_of(workspace, code)
    if adds_today is None:
        adds_today = adds_today_by_account(workspace, [code], now).get(code.state, {})
    choice = choose_accounts(seats, code.strategy, now, adds_today, previous=code.routed_userids)
    changed = bool(choice.userids) and list(choice.userids) != list(code.routed_userids)
    if changed and code.wecom_id:
        if client is not None:
            _set_members(client, code, choice.userids)
        else:
            with client_for(workspace) as own:
                _set_members(own, code, choice.userids)
    fields: dict[str, object] = {}
    if changed:
        fields.update(routed_userids=list(choice.userids), routed_at=now)
    if choice.note != code.routing_note:
        fields["routing_note"] = choice.note
    if fields:
        ChannelCode.objects.for_workspace(workspace).filter(pk=code.pk).update(**fields)
        for key, value in fields.items():
            setattr(code, key, value)
    return choice


def _set_members(client: WeComClient, code: ChannelCode, userids: Sequence[str]) -> None:
    """The accounts WeCom hands the code's adds to: a contact way's `user` list (WECOM.md §3) or
    an acquisition link's range (§7); both replace the old list."""
    if code.is_link:
        client.update_acquisition_link(code.link_id, users=list(userids))
    else:
        client.update_contact_way(ContactWayUpdate(config_id=code.config_id, user=list(userids)))


@dataclass(frozen=True)
class RoutingRun:
    codes: int
    changed: int
    failed: int


def route_active_codes(workspace: Workspace, now: dt.datetime | None = None) -> RoutingRun:
    """Apply routing to every active code of the brand, with one WeCom connection and three
    queries in all; a code WeCom refuses is logged and the others still run."""
    now = now or timezone.now()
    codes = list(ChannelCode.objects.for_workspace(workspace).filter(active=True)
                 .exclude(config_id="", link_id="").prefetch_related(seats_prefetch(workspace)))
    if not codes:
        return RoutingRun(0, 0, 0)
    adds = adds_today_by_account(workspace, codes, now)
    changed = failed = 0
    with client_for(workspace) as client:
        for code in codes:
            before = list(code.routed_userids)
            try:
                apply_routing(workspace, code, now, client=client, seats=list(code.seats.all()),
                              adds_today=adds.get(code.state, {}))
            except WeComError as exc:
                failed += 1
                logger.warning("routing code %s of %s failed: %s", code.pk, workspace.slug, exc)
                continue
            changed += list(code.routed_userids) != before
    return RoutingRun(len(codes), changed, failed)
