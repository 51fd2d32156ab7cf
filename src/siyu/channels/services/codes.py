"""渠道活码 services: creating, editing and retiring channel live codes, each backed by a WeCom
contact way (联系我, WECOM.md §3), and what the console lists about them.

Plain functions with explicit workspace and membership; roles are checked here
(`Module.CHANNELS`: admin, ops lead and planner edit; copywriter, customer ops and data
analyst view; the merchandiser nothing). Every problem with the input is reported at once,
on its own field, in the user's language; nothing is saved unless WeCom accepted the change.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from siyu.accounts.models import StaffAccount
from siyu.channels.group_codes import group_code_refs
from siyu.channels.models import (
    MAX_ATTACHMENTS,
    POSTER_HEADLINE_MAX_CHARS,
    REMARK_MAX_CHARS,
    STATE_MAX_CHARS,
    ChannelAccount,
    ChannelCode,
    CodeGroup,
    CodeKind,
    RoutingStrategy,
    Touchpoint,
    Welfare,
)
from siyu.channels.services import routing
from siyu.channels.services.auditing import CODE_LABELS, code_values
from siyu.channels.services.groups import GroupFilter, in_group
from siyu.channels.services.welcome import validate_welcome
from siyu.core.models import AuditAction, Membership, Workspace
from siyu.core.permissions import Action, Module, Seat, allows, require, role_of
from siyu.core.services import audit_change, change, changes, fact
from siyu.customers.models import FollowRelation
from siyu.tags import services as tags
from siyu.wecom.client import (
    AcquisitionLinkMissing,
    ContactWayMissing,
    ContactWaySpec,
    ContactWayUpdate,
    GroupChatMissing,
    WeComClient,
    WeComError,
)
from siyu.wecom.services import NotConnected, client_for

logger = logging.getLogger("siyu.channels")

STATE_PREFIX = "ch"
STATE_RANDOM_BYTES = 10  # 80 random bits: 16 base32 characters, "ch" + 16 = 18 <= 30 (WECOM.md §3)
PROMOTER_MAX_CHARS = 40
GROUP_CHAT_MAX_CHARS = 64
GROUP_CHAT_ID = re.compile(r"^wr[0-9A-Za-z_-]{6,62}$")  # WeCom's customer-group chat ids start with "wr"
MAX_WEIGHT = 100  # keeps one weighted rotation cycle short (see routing._weighted_sequence)
MAX_SEATS = 100  # WECOM.md §3: <= 100 members per contact way [sdk]
MAX_AUTO_TAGS = 20
WELCOME_TEXT_MAX_BYTES = 4000  # WECOM.md §3: send_welcome_msg text.content <= 4000 bytes
CUSTOMER_CHANNEL_MAX_BYTES = 64  # WECOM.md §7: an acquisition link's customer_channel <= 64 bytes


def can_edit(membership: Membership | None) -> bool:
    role = role_of(membership)
    return role is not None and allows(role, Module.CHANNELS, Action.EDIT)


# --- input ----------------------------------------------------------------------------------------

@dataclass
class SeatInput:
    """One staff account on a code: its weight, daily cap, whether it is a backup, its shifts
    (`[{"weekdays": [0..6], "start": "HH:MM", "end": "HH:MM"}]`, Monday 0; empty = always)."""

    account_id: int | None
    weight: int | None = 1
    daily_cap: int | None = None
    is_backup: bool = False
    shifts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CodeInput:
    """A code's settings as the console form and the API hand them to `create_code` / `update_code`."""

    name: str = ""
    touchpoint: str = ""
    promoter_name: str = ""
    strategy: str = RoutingStrategy.ROUND_ROBIN
    skip_verify: bool = True
    seats: list[SeatInput] = field(default_factory=list)
    welcome_text: str = ""
    welcome_attachments: list[dict[str, Any]] = field(default_factory=list)
    welfare_id: int | None = None
    auto_tag_ids: list[str] = field(default_factory=list)
    group_chat_id: str = ""
    group_code_id: int | None = None  # a group live code whose QR the welcome carries
    kind: str = CodeKind.CONTACT_WAY  # fixed once the code exists
    group_id: int | None = None
    expires_on: dt.date | None = None  # the last day (Asia/Shanghai) it takes adds
    poster_headline: str = ""


# --- state ----------------------------------------------------------------------------------------

def new_state(workspace: Workspace) -> str:
    """A fresh contact-way `state` for the brand: "ch" + 16 base32 characters of 80 random bits,
    so it is neither guessable from other codes nor likely to collide (checked anyway; the
    database's unique constraint is the last word). It never changes once the code exists:
    every add through the code carries it back (WECOM.md §3, add_external_contact State)."""
    codes = ChannelCode.objects.for_workspace(workspace)
    while True:
        random_part = base64.b32encode(secrets.token_bytes(STATE_RANDOM_BYTES)).decode().rstrip("=").lower()
        state = f"{STATE_PREFIX}{random_part}"
        assert len(state) <= STATE_MAX_CHARS
        if not codes.filter(state=state).exists():
            return state


# --- validation -----------------------------------------------------------------------------------

def _add(errors: dict[str, list[str]], key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


def _welcome_errors(text: str, attachments: list[dict[str, Any]],
                    workspace: Workspace | None = None) -> dict[str, list[str]]:
    """The welcome message's rules live with the welcome service (`validate_welcome`); asked once
    for the text and once for the attachments, so each problem lands on its own field."""
    errors: dict[str, list[str]] = {}
    for key, found in (("welcome_text", validate_welcome(text, [])),
                       ("welcome_attachments", validate_welcome("", attachments, workspace))):
        if found:
            errors[key] = [str(m) for m in found]
    return errors


def _shift_errors(shifts: Any) -> list[str]:
    if not isinstance(shifts, list):
        return [_("Shifts are a list of weekdays with a start and an end time.")]
    problems: list[str] = []
    for shift in shifts:
        if not isinstance(shift, dict):
            problems.append(_("Shifts are a list of weekdays with a start and an end time."))
            continue
        weekdays = shift.get("weekdays")
        if (not isinstance(weekdays, list) or not weekdays
                or any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in weekdays)):
            problems.append(_("Give each shift its weekdays, from 0 (Monday) to 6 (Sunday)."))
        start = routing.parse_clock(str(shift.get("start", "")))
        end = routing.parse_clock(str(shift.get("end", "")))
        if start is None or end is None:
            problems.append(_("Write shift times as HH:MM, e.g. 09:00."))
        elif start >= end:
            problems.append(_("A shift ends after it starts (%(start)s–%(end)s); split a night shift in two.")
                            % {"start": shift.get("start"), "end": shift.get("end")})
    return problems


def _seat_errors(workspace: Workspace, seats: list[SeatInput], errors: dict[str, list[str]]) -> dict[int, StaffAccount]:
    """Check the seats; the brand's accounts they name, by id."""
    ids = [s.account_id for s in seats if s.account_id is not None]
    accounts = {a.pk: a for a in StaffAccount.objects.for_workspace(workspace).filter(pk__in=ids)}
    if len(seats) > MAX_SEATS:
        _add(errors, "seats", _("A code routes among at most %(max)s accounts.") % {"max": MAX_SEATS})
    seen: set[int] = set()
    for number, seat in enumerate(seats, start=1):
        account = accounts.get(seat.account_id) if seat.account_id is not None else None
        if account is None:
            _add(errors, "seats", _("Row %(row)s: choose one of this brand's accounts.") % {"row": number})
            continue
        name = str(account)
        if account.pk in seen:
            _add(errors, "seats", _("%(account)s is listed twice.") % {"account": name})
        seen.add(account.pk)
        if seat.weight is None or not 1 <= seat.weight <= MAX_WEIGHT:
            _add(errors, "seats", _("%(account)s: the weight is a whole number from 1 to %(max)s.")
                 % {"account": name, "max": MAX_WEIGHT})
        if seat.daily_cap is not None and seat.daily_cap < 1:
            _add(errors, "seats", _("%(account)s: a daily cap is at least 1; leave it empty for no cap.")
                 % {"account": name})
        for problem in _shift_errors(seat.shifts):
            _add(errors, "seats", f"{name}: {problem}")
    if not any(not s.is_backup and s.account_id in accounts for s in seats):
        _add(errors, "seats", _("Add at least one regular (non-backup) account for the code to route to."))
    return accounts


def _validate(workspace: Workspace, data: CodeInput, code: ChannelCode | None) -> dict[int, StaffAccount]:
    """Normalise `data` in place and raise one ValidationError with every problem, per field."""
    errors: dict[str, list[str]] = {}
    data.name = (data.name or "").strip()
    data.promoter_name = (data.promoter_name or "").strip()
    data.group_chat_id = (data.group_chat_id or "").strip()
    data.welcome_text = (data.welcome_text or "").strip()
    codes = ChannelCode.objects.for_workspace(workspace)
    if code is not None:
        codes = codes.exclude(pk=code.pk)
    if not data.name:
        _add(errors, "name", _("Give the code a name, e.g. the store or the ad it is printed on."))
    elif len(data.name) > REMARK_MAX_CHARS:
        _add(errors, "name", _("Keep the name within %(max)s characters: WeCom stores it as the contact way's remark.")
             % {"max": REMARK_MAX_CHARS})
    elif codes.filter(name=data.name).exists():
        _add(errors, "name", _("This brand already has a code named “%(name)s”.") % {"name": data.name})
    if data.touchpoint not in Touchpoint.values:
        _add(errors, "touchpoint", _("Choose where customers meet the code."))
    if data.touchpoint == Touchpoint.PROMOTER:
        if not data.promoter_name:
            _add(errors, "promoter_name", _("A promoter code needs the promoter's name."))
        elif len(data.promoter_name) > PROMOTER_MAX_CHARS:
            _add(errors, "promoter_name", _("Keep the promoter's name within %(max)s characters.")
                 % {"max": PROMOTER_MAX_CHARS})
        elif codes.filter(active=True, touchpoint=Touchpoint.PROMOTER, promoter_name=data.promoter_name).exists():
            _add(errors, "promoter_name", _("%(name)s already has a promoter code; each promoter gets one.")
                 % {"name": data.promoter_name})
    else:
        data.promoter_name = ""
    if data.strategy not in RoutingStrategy.values:
        _add(errors, "strategy", _("Choose how scans are shared among the accounts."))
    _kind_group_expiry_errors(workspace, data, code, errors)
    accounts = _seat_errors(workspace, data.seats, errors)
    for key, messages in _welcome_errors(data.welcome_text, list(data.welcome_attachments or []), workspace).items():
        errors.setdefault(key, []).extend(messages)
    if data.welfare_id is not None and not Welfare.objects.for_workspace(workspace).filter(pk=data.welfare_id).exists():
        _add(errors, "welfare", _("Choose one of this brand's welfare offers."))
    if data.group_chat_id and (len(data.group_chat_id) > GROUP_CHAT_MAX_CHARS
                               or not GROUP_CHAT_ID.match(data.group_chat_id)):
        _add(errors, "group_chat_id", _("“%(value)s” is not a WeCom group chat ID (they start with “wr”).")
             % {"value": data.group_chat_id[:GROUP_CHAT_MAX_CHARS]})
    if data.group_code_id is not None:
        if not group_code_refs(workspace, [data.group_code_id]):
            _add(errors, "group_code", _("Choose one of this brand's group codes."))
        elif len(data.welcome_attachments or []) >= MAX_ATTACHMENTS:
            _add(errors, "group_code", _("The group code's QR is sent as an attachment: keep at most %(n)s "
                                         "others.") % {"n": MAX_ATTACHMENTS - 1})
    picked: list[str] = []
    for tag in data.auto_tag_ids or []:
        tag = str(tag).strip()
        if tag and tag not in picked:
            picked.append(tag)
    if len(picked) > MAX_AUTO_TAGS or any(len(t) > 64 for t in picked):
        _add(errors, "auto_tag_ids", _("At most %(max)s tags, each a WeCom tag ID.") % {"max": MAX_AUTO_TAGS})
    elif picked:
        known = set(tag_names(workspace, picked))
        unknown = [t for t in picked if t not in known]
        if unknown:
            _add(errors, "auto_tag_ids", _("Not one of this brand's tags: %(ids)s. Pick tags from the list (sync "
                                           "the tags first if one was made in WeCom).")
                 % {"ids": "、".join(f"“{t}”" for t in unknown)})
    data.auto_tag_ids = picked
    if errors:
        raise ValidationError(errors)
    return accounts


def _kind_group_expiry_errors(workspace: Workspace, data: CodeInput, code: ChannelCode | None,
                              errors: dict[str, list[str]]) -> None:
    """The code's kind (fixed once made), its group, its expiry day and its poster headline."""
    if code is not None:
        data.kind = code.kind  # a printed QR cannot become a link, nor the other way round
    elif data.kind not in CodeKind.values:
        _add(errors, "kind", _("Choose a contact-way QR code or an acquisition link."))
    if data.group_id is not None and not CodeGroup.objects.for_workspace(workspace).filter(pk=data.group_id).exists():
        _add(errors, "group", _("Choose one of this brand's code groups."))
    today = timezone.localdate(timezone.now(), routing.SHANGHAI)
    unchanged = code is not None and data.expires_on == code.expires_on
    if data.expires_on is not None and not unchanged and data.expires_on < today:
        _add(errors, "expires_on", _("Choose today or a later day; the code works until the end of that day."))
    data.poster_headline = " ".join((data.poster_headline or "").split())
    if len(data.poster_headline) > POSTER_HEADLINE_MAX_CHARS:
        _add(errors, "poster_headline", _("Keep the poster headline within %(max)s characters.")
             % {"max": POSTER_HEADLINE_MAX_CHARS})


def _refused(exc: Exception) -> ValidationError:
    if isinstance(exc, NotConnected):
        return ValidationError(str(exc))
    assert isinstance(exc, WeComError)
    return ValidationError(_("WeCom refused the change (error %(errcode)s: %(errmsg)s); nothing was saved.")
                           % {"errcode": exc.errcode, "errmsg": exc.errmsg})


def _client(workspace: Workspace) -> WeComClient:
    return client_for(workspace)


# --- creating, editing, retiring -------------------------------------------------------------------

def _unsaved_seats(workspace: Workspace, seats: list[SeatInput], accounts: dict[int, StaffAccount]) -> list[ChannelAccount]:
    return [
        ChannelAccount(workspace=workspace, account=accounts[s.account_id], weight=s.weight or 1,
                       daily_cap=s.daily_cap, is_backup=s.is_backup, shifts=list(s.shifts or []))
        for s in seats if s.account_id in accounts
    ]


def _first_choice(seats: list[ChannelAccount], strategy: str, now: dt.datetime,
                  adds_today: dict[int, int], previous: Sequence[str]) -> routing.RoutingChoice:
    """The accounts a new or edited contact way starts with. WeCom needs at least one member, so
    when no account is eligible right now (all off shift, say) the first regular one stands in
    until the scheduler's next pass; an account no longer on the code never stays."""
    seated = {seat.account.userid for seat in seats}
    kept = [userid for userid in previous if userid in seated]
    choice = routing.choose_accounts(seats, strategy, now, adds_today, previous=kept)
    if choice.userids:
        return choice
    first = next(seat for seat in seats if not seat.is_backup)
    return routing.RoutingChoice((first.account.userid,), choice.note, chosen=False)


def _apply_fields(code: ChannelCode, data: CodeInput) -> None:
    code.name, code.touchpoint, code.promoter_name = data.name, data.touchpoint, data.promoter_name
    code.strategy, code.skip_verify = data.strategy, data.skip_verify
    code.welcome_text, code.welcome_attachments = data.welcome_text, list(data.welcome_attachments or [])
    code.welfare_id, code.auto_tag_ids, code.group_chat_id = data.welfare_id, data.auto_tag_ids, data.group_chat_id
    code.group_code_id = data.group_code_id
    code.group_id, code.expires_on, code.poster_headline = data.group_id, data.expires_on, data.poster_headline


def _check_group(client: WeComClient, chat_id: str) -> None:
    """The group to invite to must exist at WeCom (`groupchat/get`, WECOM.md §4). Siyu keeps no
    list of the corp's customer groups yet, so this is the check; a picker needs that list."""
    try:
        client.get_group(chat_id)
    except GroupChatMissing as exc:
        raise ValidationError({"group_chat_id": [
            _("WeCom knows no customer group “%(value)s”: check the chat ID (the group may be dismissed).")
            % {"value": chat_id}]}) from exc


def _add_way(client: WeComClient, code: ChannelCode, userids: Sequence[str]) -> None:
    """Create what customers scan or tap. A contact way: several members (type 2), a QR code
    (scene 2), the name as remark and the code's state (WECOM.md §3). An acquisition link: the
    name, the accounts as its range, and the code's state as the URL's `customer_channel`, which
    WeCom hands back as the add's State (§7), so the add finds its code exactly as a scan does.
    What WeCom answered is stored on `code`."""
    if code.is_link:
        link = client.create_acquisition_link(code.name, users=list(userids), skip_verify=code.skip_verify)
        code.link_id, code.link_url = link.link_id, channel_url(link.url, code.state)
        return
    created = client.add_contact_way(ContactWaySpec(
        type=2, scene=2, remark=code.name, state=code.state, skip_verify=code.skip_verify, user=list(userids)))
    code.config_id, code.qr_code_url = created.config_id, created.qr_code


def channel_url(url: str, state: str) -> str:
    """The link's URL with `customer_channel=<state>` appended (WECOM.md §7)."""
    assert len(state.encode("utf-8")) <= CUSTOMER_CHANNEL_MAX_BYTES
    return f"{url}{'&' if '?' in url else '?'}customer_channel={quote(state)}"


def _update_way(client: WeComClient, code: ChannelCode, userids: Sequence[str]) -> None:
    """Give WeCom the code's name, verification setting and accounts; one WeCom no longer has is
    made again (a contact way with the same state; a link gets a new URL, same channel)."""
    if not code.wecom_id:
        _add_way(client, code, userids)
        return
    try:
        if code.is_link:
            client.update_acquisition_link(code.link_id, link_name=code.name, users=list(userids),
                                           skip_verify=code.skip_verify)
        else:
            client.update_contact_way(ContactWayUpdate(
                config_id=code.config_id, remark=code.name, skip_verify=code.skip_verify, user=list(userids)))
    except (ContactWayMissing, AcquisitionLinkMissing):
        _add_way(client, code, userids)  # gone at WeCom: made again, same state


def _delete_at_wecom(client: WeComClient, code: ChannelCode) -> None:
    """Delete the code's contact way or link at WeCom; one already gone is fine."""
    try:
        if code.is_link and code.link_id:
            client.delete_acquisition_link(code.link_id)
        elif code.config_id:
            client.delete_contact_way(code.config_id)
    except (ContactWayMissing, AcquisitionLinkMissing):
        pass  # gone at WeCom already


def create_code(workspace: Workspace, membership: Seat | None, data: CodeInput,
                now: dt.datetime | None = None) -> ChannelCode:
    """Create a code and its WeCom contact way. If WeCom refuses, nothing is saved and the
    error says what WeCom answered."""
    require(role_of(membership), Module.CHANNELS, Action.EDIT)
    now = now or timezone.now()
    accounts = _validate(workspace, data, None)
    code = ChannelCode(workspace=workspace, state=new_state(workspace), kind=data.kind,
                       created_by=getattr(membership, "user", None))
    _apply_fields(code, data)
    seats = _unsaved_seats(workspace, data.seats, accounts)
    choice = _first_choice(seats, code.strategy, now, {}, ())
    try:
        with _client(workspace) as client:
            if code.group_chat_id:
                _check_group(client, code.group_chat_id)
            _add_way(client, code, choice.userids)
    except (WeComError, NotConnected) as exc:
        raise _refused(exc) from exc
    code.routed_userids, code.routed_at, code.routing_note = list(choice.userids), now, choice.note
    try:
        with transaction.atomic():
            code.save()
            for seat in seats:
                seat.code = code
            ChannelAccount.objects.for_workspace(workspace).bulk_create(seats)
            audit_change(workspace, membership, AuditAction.CREATED, module="channels", subject=gettext_lazy("channel code"),
                         name=code.name, facts=[fact(CODE_LABELS["seats"], code_values(workspace, code, seats)["seats"])])
    except IntegrityError as exc:
        # Two planners racing for the same name: the way WeCom made for the loser goes again.
        _delete_way_quietly(workspace, code)
        raise ValidationError({"name": _("Another code was saved at the same time with this name. "
                                         "Choose another name.")}) from exc
    return code


def _delete_way_quietly(workspace: Workspace, code: ChannelCode) -> None:
    try:
        with _client(workspace) as client:
            _delete_at_wecom(client, code)
    except Exception:  # noqa: BLE001 - best effort; reconcile never sees an orphan way as a code
        logger.warning("could not delete orphaned contact way or link of %s", code.name, exc_info=True)


def _active_code(workspace: Workspace, code_id: int) -> ChannelCode:
    return ChannelCode.objects.for_workspace(workspace).get(pk=code_id)


def update_code(workspace: Workspace, membership: Membership | None, code_id: int, data: CodeInput,
                now: dt.datetime | None = None) -> ChannelCode:
    """Change a code's settings and seats; its `state` never changes. WeCom's contact way gets
    the new remark, verification setting and accounts first; if WeCom refuses, nothing is saved."""
    require(role_of(membership), Module.CHANNELS, Action.EDIT)
    now = now or timezone.now()
    code = _active_code(workspace, code_id)
    if not code.active:
        raise ValidationError(_("This code is deactivated; create a new one instead."))
    accounts = _validate(workspace, data, code)
    before = code_values(workspace, code)
    group_changed = data.group_chat_id != code.group_chat_id
    _apply_fields(code, data)
    seats = _unsaved_seats(workspace, data.seats, accounts)
    adds = routing.adds_today_by_account(workspace, [code], now).get(code.state, {})
    choice = _first_choice(seats, code.strategy, now, adds, code.routed_userids)
    try:
        with _client(workspace) as client:
            if group_changed and code.group_chat_id:
                _check_group(client, code.group_chat_id)
            _update_way(client, code, choice.userids)
    except (WeComError, NotConnected) as exc:
        raise _refused(exc) from exc
    if list(choice.userids) != list(code.routed_userids):
        code.routed_userids, code.routed_at = list(choice.userids), now
    code.routing_note = choice.note
    try:
        with transaction.atomic():
            code.save()
            _replace_seats(workspace, code, seats)
            audit_change(workspace, membership, AuditAction.UPDATED, module="channels", subject=gettext_lazy("channel code"),
                         name=code.name, changes=changes(before, code_values(workspace, code, seats), CODE_LABELS))
    except IntegrityError as exc:
        raise ValidationError({"name": _("Another code was saved at the same time with this name. "
                                         "Choose another name.")}) from exc
    return code


def _replace_seats(workspace: Workspace, code: ChannelCode, seats: list[ChannelAccount]) -> None:
    """Keep a seat's row when its account stays (ids stay stable), update it, add and remove."""
    existing = {s.account_id: s for s in ChannelAccount.objects.for_workspace(workspace).filter(code=code)}
    wanted = {s.account_id for s in seats}
    ChannelAccount.objects.for_workspace(workspace).filter(code=code).exclude(account_id__in=wanted).delete()
    new = []
    for seat in seats:
        old = existing.get(seat.account_id)
        if old is None:
            seat.code = code
            new.append(seat)
            continue
        old.weight, old.daily_cap, old.is_backup, old.shifts = seat.weight, seat.daily_cap, seat.is_backup, seat.shifts
        old.save(update_fields=["weight", "daily_cap", "is_backup", "shifts"])
    ChannelAccount.objects.for_workspace(workspace).bulk_create(new)


def deactivate_code(workspace: Workspace, membership: Membership | None, code_id: int) -> ChannelCode:
    """Retire a code: its contact way is deleted at WeCom (printed QR codes stop adding), the
    code and every add it brought stay for the numbers, and its state is never reused."""
    require(role_of(membership), Module.CHANNELS, Action.EDIT)
    code = _active_code(workspace, code_id)
    if not code.active:
        return code
    if code.wecom_id:
        try:
            with _client(workspace) as client:
                _delete_at_wecom(client, code)
        except (WeComError, NotConnected) as exc:
            raise _refused(exc) from exc
    code.active = False
    code.routing_note = (_("Deactivated; the acquisition link was deleted at WeCom.") if code.is_link
                         else _("Deactivated; the contact way was deleted at WeCom."))
    code.save(update_fields=["active", "routing_note", "updated_at"])
    audit_change(workspace, membership, AuditAction.UPDATED, module="channels", subject=gettext_lazy("channel code"),
                 name=code.name, changes=[change(pgettext_lazy("channel code", "in use"), True, False)])
    return code


def reroute_code(workspace: Workspace, membership: Membership | None, code_id: int,
                 now: dt.datetime | None = None) -> routing.RoutingChoice:
    """Apply routing to one code now (the console's "reroute" action)."""
    require(role_of(membership), Module.CHANNELS, Action.EDIT)
    code = _active_code(workspace, code_id)
    if not code.active:
        raise ValidationError(_("This code is deactivated."))
    try:
        return routing.apply_routing(workspace, code, now)
    except (WeComError, NotConnected) as exc:
        raise _refused(exc) from exc


# --- keeping WeCom in step --------------------------------------------------------------------------

@dataclass(frozen=True)
class ReconcileReport:
    checked: int
    recreated: list[str]
    repaired: list[str]
    failed: list[str]


def reconcile_contact_ways(workspace: Workspace, now: dt.datetime | None = None) -> ReconcileReport:
    """Make WeCom hold a contact way for every active code: one WeCom no longer has (deleted
    outside the platform, or the local twin restarted with empty memory) or that was never made
    is made again with the same state, so adds still find their code; a way whose members drifted
    from the routed accounts gets them back. Idempotent; the reconcile job runs it."""
    now = now or timezone.now()
    codes = list(ChannelCode.objects.for_workspace(workspace).filter(active=True).prefetch_related(routing.seats_prefetch(workspace)))
    recreated: list[str] = []
    repaired: list[str] = []
    failed: list[str] = []
    if not codes:
        return ReconcileReport(0, [], [], [])
    with _client(workspace) as client:
        for code in codes:
            try:
                if _reconcile_one(workspace, client, code, now):
                    recreated.append(code.name)
                elif code.routed_userids and _repair_members(client, code):
                    repaired.append(code.name)
            except WeComError as exc:
                logger.warning("reconciling code %s of %s failed: %s", code.pk, workspace.slug, exc)
                failed.append(code.name)
    return ReconcileReport(len(codes), recreated, repaired, failed)


def _reconcile_one(workspace: Workspace, client: WeComClient, code: ChannelCode, now: dt.datetime) -> bool:
    """Re-create the code's way (or link) if WeCom lacks it; True when it did."""
    if code.is_link and code.link_id:
        try:
            client.get_acquisition_link(code.link_id)
            return False
        except AcquisitionLinkMissing:
            pass  # gone at WeCom: made again below
    elif code.config_id:
        try:
            # A way under our config_id with another state is not ours (a restarted twin reuses ids).
            if client.get_contact_way(code.config_id).state == code.state:
                return False
        except ContactWayMissing:
            pass  # gone at WeCom: made again below
    seats = list(code.seats.all())
    if not any(not s.is_backup for s in seats):
        raise WeComError(-1, "the code has no regular account", "reconcile")
    choice = _first_choice(seats, code.strategy, now, {}, code.routed_userids)
    userids = [u for u in code.routed_userids if u in {s.account.userid for s in seats}] or list(choice.userids)
    _add_way(client, code, userids)
    ChannelCode.objects.for_workspace(workspace).filter(pk=code.pk).update(
        config_id=code.config_id, qr_code_url=code.qr_code_url, link_id=code.link_id, link_url=code.link_url,
        routed_userids=userids, routed_at=now)
    code.routed_userids = userids
    return True


def _repair_members(client: WeComClient, code: ChannelCode) -> bool:
    if code.is_link:
        link = client.get_acquisition_link(code.link_id)
        if list(link.range.user_list) == list(code.routed_userids):
            return False
        client.update_acquisition_link(code.link_id, users=list(code.routed_userids))
        return True
    way = client.get_contact_way(code.config_id)
    if list(way.user) == list(code.routed_userids):
        return False
    client.update_contact_way(ContactWayUpdate(config_id=code.config_id, user=list(code.routed_userids)))
    return True


# --- expiry ----------------------------------------------------------------------------------------

def expire_codes(workspace: Workspace, now: dt.datetime | None = None) -> list[str]:
    """Retire the codes whose last day (Asia/Shanghai) is past: their contact way or link is
    deleted at WeCom, so a printed QR or a shared link stops adding friends, as WeCom's own
    `expires_in` would; each is marked expired and its adds stay in the numbers. Idempotent: a
    code is claimed (active → expired) with a conditional UPDATE, and one WeCom could not be
    reached for stays active for the next run. Answers the names of the codes it retired."""
    now = now or timezone.now()
    today = timezone.localdate(now, routing.SHANGHAI)
    due = list(ChannelCode.objects.for_workspace(workspace).filter(active=True, expires_on__lt=today))
    if not due:
        return []
    retired: list[str] = []
    with _client(workspace) as client:
        for code in due:
            try:
                _delete_at_wecom(client, code)
            except WeComError as exc:
                logger.warning("expiring code %s of %s failed: %s", code.pk, workspace.slug, exc)
                continue
            note = _("Expired after %(day)s; Siyu deleted it at WeCom.") % {"day": str(code.expires_on)}
            claimed = ChannelCode.objects.for_workspace(workspace).filter(pk=code.pk, active=True).update(
                active=False, expired_at=now, routing_note=note[:200], updated_at=now)
            if claimed:
                retired.append(code.name)
    return retired


# --- reading ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CodeRow:
    """A code as the console lists it: the accounts it routes to now and the adds it brought."""

    code: ChannelCode
    routed_accounts: list[str]
    adds_today: int
    adds_total: int


def _adds_by_state(workspace: Workspace, states: list[str], now: dt.datetime) -> dict[str, dict[str, int]]:
    """Adds through each state: today (Asia/Shanghai), the last 7 days and all time (one query)."""
    if not states:
        return {}
    rows = (FollowRelation.objects.for_workspace(workspace).filter(state__in=states)
            .values("state").annotate(
                total=Count("id"),
                today=Count("id", filter=Q(added_at__gte=routing.day_start(now))),
                week=Count("id", filter=Q(added_at__gte=now - dt.timedelta(days=7))),
            ))
    return {r["state"]: {"total": r["total"], "today": r["today"], "week": r["week"]} for r in rows}


def list_codes(workspace: Workspace, membership: Membership | None, now: dt.datetime | None = None,
               group: GroupFilter = None) -> list[CodeRow]:
    """The brand's codes, newest first, active ones before retired ones (three queries). `group`
    keeps one group's codes (a `CodeGroup` id) or those in none (`NO_GROUP`)."""
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    now = now or timezone.now()
    found = in_group(ChannelCode.objects.for_workspace(workspace).select_related("group"), group)
    codes = sorted(found, key=lambda c: not c.active)
    adds = _adds_by_state(workspace, [c.state for c in codes], now)
    names = dict(StaffAccount.objects.for_workspace(workspace).values_list("userid", "name"))
    return [
        CodeRow(code, [names.get(u) or u for u in code.routed_userids],
                adds.get(code.state, {}).get("today", 0), adds.get(code.state, {}).get("total", 0))
        for code in codes
    ]


def get_code(workspace: Workspace, membership: Membership | None, code_id: int) -> ChannelCode:
    """One code of this brand; another brand's id is simply not found."""
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    return ChannelCode.objects.for_workspace(workspace).select_related("welfare").get(pk=code_id)


def code_for_editing(workspace: Workspace, membership: Membership | None, code_id: int | None) -> ChannelCode | None:
    require(role_of(membership), Module.CHANNELS, Action.EDIT)
    return None if code_id is None else _active_code(workspace, code_id)


@dataclass(frozen=True)
class SeatStatus:
    seat: ChannelAccount
    routed: bool
    adds_today: int
    blocked: str | None  # why it cannot take a friend now, or None


@dataclass(frozen=True)
class CodeDetail:
    code: ChannelCode
    seats: list[SeatStatus]
    adds_today: int
    adds_week: int
    adds_total: int


def code_detail(workspace: Workspace, membership: Membership | None, code_id: int,
                now: dt.datetime | None = None) -> CodeDetail:
    """A code with each seat's state now: routed or not, adds today, and what keeps it out."""
    code = get_code(workspace, membership, code_id)
    now = now or timezone.now()
    seats = routing.seats_of(workspace, code)
    per_account = routing.adds_today_by_account(workspace, [code], now).get(code.state, {})
    adds = _adds_by_state(workspace, [code.state], now).get(code.state, {})
    statuses = [
        SeatStatus(seat, seat.account.userid in code.routed_userids, per_account.get(seat.account_id, 0),
                   routing.why_not(seat, now, per_account))
        for seat in seats
    ]
    return CodeDetail(code, statuses, adds.get("today", 0), adds.get("week", 0), adds.get("total", 0))


def account_options(workspace: Workspace, membership: Membership | None) -> list[StaffAccount]:
    """Accounts a code may route to: this brand's, still in the corp."""
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    return list(StaffAccount.objects.for_workspace(workspace).filter(active=True))


def tag_names(workspace: Workspace, wecom_tag_ids: Sequence[str]) -> dict[str, str]:
    """The brand's live tags among these WeCom tag ids, id → "group / name" (one query)."""
    found = tags.live_tags(workspace).filter(wecom_tag_id__in=list(wecom_tag_ids))
    return {t.wecom_tag_id: f"{t.group.name} / {t.name}" for t in found}


def tag_options(workspace: Workspace, membership: Membership | None,
                keep: Sequence[str] = ()) -> list[tuple[str, list[tuple[str, str]]]]:
    """Auto-tag choices grouped by tag group: the brand's live tags that exist in WeCom (a tag
    is marked by its WeCom id). Ids in `keep` no tag has any more (a code's stale auto-tags) come
    last, under their own heading, so saving shows them instead of dropping them unseen."""
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    groups: dict[str, list[tuple[str, str]]] = {}
    for tag in tags.live_tags(workspace).exclude(wecom_tag_id=""):
        groups.setdefault(tag.group.name, []).append((tag.wecom_tag_id, tag.name))
    known = {value for options in groups.values() for value, _label in options}
    stale = [(t, t) for t in keep if t not in known]
    if stale:
        groups[_("Unknown tags (deleted or never synced)")] = stale
    return list(groups.items())


def welfare_options(workspace: Workspace, membership: Membership | None) -> list[Welfare]:
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    return list(Welfare.objects.for_workspace(workspace).filter(active=True))


def input_from(code: ChannelCode, seats: list[ChannelAccount]) -> CodeInput:
    """A code's current settings as input, for forms that edit it."""
    return CodeInput(
        name=code.name, touchpoint=code.touchpoint, promoter_name=code.promoter_name, strategy=code.strategy,
        skip_verify=code.skip_verify, welcome_text=code.welcome_text,
        welcome_attachments=list(code.welcome_attachments), welfare_id=code.welfare_id,
        auto_tag_ids=list(code.auto_tag_ids), group_chat_id=code.group_chat_id, kind=code.kind,
        group_id=code.group_id, expires_on=code.expires_on, poster_headline=code.poster_headline,
        seats=[SeatInput(s.account_id, s.weight, s.daily_cap, s.is_backup, list(s.shifts)) for s in seats],
    )


# --- promoters (推手) --------------------------------------------------------------------------------

@dataclass(frozen=True)
class PromoterRow:
    rank: int
    promoter_name: str
    code: ChannelCode
    adds_total: int
    adds_week: int


def promoter_leaderboard(workspace: Workspace, membership: Membership | None,
                         now: dt.datetime | None = None) -> list[PromoterRow]:
    """推手排行 — promoters ranked by the friends their code brought, all time (then the last
    7 days, then name); retired promoter codes keep their place."""
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    now = now or timezone.now()
    codes = list(ChannelCode.objects.for_workspace(workspace).filter(touchpoint=Touchpoint.PROMOTER))
    adds = _adds_by_state(workspace, [c.state for c in codes], now)
    rows = sorted(
        ((c, adds.get(c.state, {}).get("total", 0), adds.get(c.state, {}).get("week", 0)) for c in codes),
        key=lambda r: (-r[1], -r[2], r[0].promoter_name),
    )
    return [PromoterRow(rank, c.promoter_name, c, total, week) for rank, (c, total, week) in enumerate(rows, start=1)]
