"""群活码 services: creating, editing and deleting group live codes, each backed by a WeCom join
way (加入群聊, WECOM.md §4), and what the console shows of them.

Roles are the `community` module's (declared by the community app): admin, ops lead, planner and
customer ops edit; the others view. Every problem with the input is reported at once, on its
own field; nothing is saved unless WeCom accepted the change.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import logging
import secrets
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.channels.models import ChannelCode
from siyu.community.models import CustomerGroup, GroupMember
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Action, Seat, allows, require, role_of
from siyu.core.services import audit_change, fact
from siyu.groupcodes.models import (
    MAX_BOUND_GROUPS,
    REMARK_MAX_CHARS,
    ROOM_BASE_NAME_MAX_CHARS,
    SCENE_QR,
    STATE_MAX_CHARS,
    WECOM_GROUP_MAX,
    WECOM_QR_CAP,
    CodeStatus,
    GroupCode,
    GroupCodeLink,
    LinkOrigin,
)
from siyu.groupcodes.services import welcome as welcomes
from siyu.ip.models import Persona
from siyu.wecom.client import JoinWayMissing, JoinWaySpec, JoinWayUpdate, WeComClient, WeComError
from siyu.wecom.services import NotConnected, client_for

logger = logging.getLogger("siyu.groupcodes")

MODULE = "community"
SUBJECT = gettext_lazy("group code")
STATE_PREFIX = "gc"  # channel codes' states start "ch": a state says which kind of code it is
STATE_RANDOM_BYTES = 10
NAME_MAX_CHARS = 60
MAX_ROOM_BASE_ID = 1_000_000
# WECOM.md §10: contact ways and join ways share one quota of 500,000 configs per corp.
CONFIG_QUOTA = 500_000


@dataclass
class CodeInput:
    name: str
    chat_ids: list[str]
    remark: str = ""
    persona_id: int | None = None
    auto_create_room: bool = True
    room_base_name: str = ""
    room_base_id: int = 1
    qr_cap: int = WECOM_QR_CAP
    full_at: int = WECOM_GROUP_MAX
    expires_on: dt.date | None = None
    welcome: welcomes.WelcomeInput = field(default_factory=welcomes.WelcomeInput)


def can_edit(membership: Seat | None) -> bool:
    role = role_of(membership)
    return role is not None and allows(role, MODULE, Action.EDIT)


def require_edit(membership: Seat | None) -> None:
    require(role_of(membership), MODULE, Action.EDIT)


def new_state(workspace: Workspace) -> str:
    """A fresh join-way `state`: "gc" + 16 base32 characters of 80 random bits. Every member who
    joins through the code carries it (groupchat/get `state`), so it never changes."""
    codes = GroupCode.objects.for_workspace(workspace)
    while True:
        state = STATE_PREFIX + base64.b32encode(secrets.token_bytes(STATE_RANDOM_BYTES)).decode().rstrip("=").lower()
        assert len(state) <= STATE_MAX_CHARS
        if not codes.filter(state=state).exists():
            return state


def _refused(exc: Exception) -> ValidationError:
    if isinstance(exc, WeComError):
        return ValidationError(_("WeCom refused the change (error %(errcode)s: %(errmsg)s); nothing was saved.")
                               % {"errcode": exc.errcode, "errmsg": exc.errmsg})
    return ValidationError(str(exc))


def _validate(workspace: Workspace, data: CodeInput, code: GroupCode | None) -> Persona | None:
    errors: dict[str, list[str]] = {}
    name = data.name.strip()
    if not name:
        errors["name"] = [_("Give the code a name.")]
    elif len(name) > NAME_MAX_CHARS:
        errors["name"] = [_("At most %(n)d characters.") % {"n": NAME_MAX_CHARS}]
    elif GroupCode.objects.for_workspace(workspace).filter(name=name).exclude(pk=code.pk if code else 0).exists():
        errors["name"] = [_("Another group code has this name.")]
    if len(data.remark) > REMARK_MAX_CHARS:
        errors["remark"] = [_("WeCom keeps at most %(n)d characters.") % {"n": REMARK_MAX_CHARS}]
    if len(data.room_base_name) > ROOM_BASE_NAME_MAX_CHARS:
        errors["room_base_name"] = [_("WeCom keeps at most %(n)d characters.") % {"n": ROOM_BASE_NAME_MAX_CHARS}]
    if not 1 <= data.room_base_id <= MAX_ROOM_BASE_ID:
        errors["room_base_id"] = [_("A number from 1 to %(n)d.") % {"n": MAX_ROOM_BASE_ID}]
    if not 1 <= data.qr_cap <= WECOM_QR_CAP:
        errors["qr_cap"] = [_("From 1 to %(n)d: WeCom stops QR joins at %(n)d members.") % {"n": WECOM_QR_CAP}]
    if not data.qr_cap <= data.full_at <= WECOM_GROUP_MAX:
        errors["full_at"] = [_("From the QR cap to %(n)d, WeCom's largest group.") % {"n": WECOM_GROUP_MAX}]
    chat_ids = list(dict.fromkeys(c.strip() for c in data.chat_ids if c.strip()))
    if not 1 <= len(chat_ids) <= MAX_BOUND_GROUPS:
        errors["chat_ids"] = [_("Choose 1 to %(n)d groups: a join way holds at most %(n)d.") % {"n": MAX_BOUND_GROUPS}]
    else:
        groups = {g.chat_id: g for g in CustomerGroup.objects.for_workspace(workspace)
                  .filter(chat_id__in=chat_ids, dismissed_at__isnull=True)}
        bound = set(code.chat_ids) if code is not None else set()
        if missing := [c for c in chat_ids if c not in groups]:
            errors["chat_ids"] = [_("Not a live group of this brand: %(ids)s.") % {"ids": ", ".join(missing)}]
        elif full := [str(groups[c]) for c in chat_ids if c not in bound and groups[c].member_count >= data.qr_cap]:
            errors["chat_ids"] = [_("Already at the QR cap, so nobody could join by the code: %(names)s.")
                                  % {"names": ", ".join(full)}]
    persona = None
    if data.persona_id is not None:
        persona = Persona.objects.for_workspace(workspace).filter(pk=data.persona_id).first()
        if persona is None:
            errors["persona"] = [_("Choose a persona of this brand.")]
    errors |= welcomes.welcome_errors(data.welcome)
    if errors:
        raise ValidationError(errors)
    data.name, data.chat_ids = name, chat_ids
    return persona


def _apply(code: GroupCode, data: CodeInput, persona: Persona | None) -> None:
    code.name, code.persona, code.remark = data.name, persona, data.remark.strip()
    code.auto_create_room, code.room_base_name = data.auto_create_room, data.room_base_name.strip()
    code.qr_cap, code.full_at, code.expires_on = data.qr_cap, data.full_at, data.expires_on
    code.welcome_text, code.welcome_kind = data.welcome.text.strip(), data.welcome.kind
    code.welcome_attachment = welcomes.clean_attachment(data.welcome.kind, data.welcome.attachment)
    code.welcome_notify = data.welcome.notify


def _remark(code: GroupCode) -> str:
    return (code.remark or code.name)[:REMARK_MAX_CHARS]


def create_code(workspace: Workspace, membership: Seat | None, data: CodeInput) -> GroupCode:
    """Create a code: its join way at WeCom (QR scene, the chosen groups), then its welcome
    template, then the code and generation 1, 2… of its chain. If WeCom refuses, nothing is saved."""
    require(role_of(membership), MODULE, Action.EDIT)
    persona = _validate(workspace, data, None)
    code = GroupCode(workspace=workspace, state=new_state(workspace), scene=SCENE_QR,
                     room_base_id=data.room_base_id, created_by=getattr(membership, "user", None))
    _apply(code, data, persona)
    code.chat_ids = list(data.chat_ids)
    try:
        with client_for(workspace) as client:
            code.config_id = client.add_join_way(JoinWaySpec(
                scene=2, chat_id_list=code.chat_ids, remark=_remark(code),
                auto_create_room=1 if code.auto_create_room else 0, room_base_name=code.room_base_name or None,
                room_base_id=code.room_base_id, state=code.state))
            code.qr_code_url = client.get_join_way(code.config_id).qr_code
            code.welcome_template_id = welcomes.sync_template(client, code)
    except (WeComError, NotConnected) as exc:
        _delete_way_quietly(workspace, code)
        raise _refused(exc) from exc
    except ValidationError:
        _delete_way_quietly(workspace, code)
        raise
    try:
        with transaction.atomic():
            code.save()
            parent = None
            for n, chat_id in enumerate(code.chat_ids, start=1):
                parent = GroupCodeLink.objects.create(workspace=workspace, code=code, chat_id=chat_id, generation=n,
                                                      parent=parent, origin=LinkOrigin.BOUND)
            audit_change(workspace, membership, AuditAction.CREATED, module=MODULE, subject=SUBJECT, name=code.name,
                         facts=[fact(gettext_lazy("groups"), len(code.chat_ids))], data={"group_code_id": code.pk})
    except IntegrityError as exc:
        _delete_way_quietly(workspace, code)
        raise ValidationError({"name": _("Another code was saved at the same time; try again.")}) from exc
    return code


def _delete_way_quietly(workspace: Workspace, code: GroupCode) -> None:
    if not code.config_id and not code.welcome_template_id:
        return
    try:
        with client_for(workspace) as client:
            _delete_at_wecom(client, code)
    except Exception:  # noqa: BLE001 - best effort: an orphan join way only costs quota
        logger.warning("could not delete the orphaned join way of %s", code.name, exc_info=True)


def _delete_at_wecom(client: WeComClient, code: GroupCode) -> None:
    if code.config_id:
        with contextlib.suppress(JoinWayMissing):  # already gone at WeCom
            client.delete_join_way(code.config_id)
    if code.welcome_template_id:
        welcomes.drop_template(client, code.welcome_template_id)


def get_code(workspace: Workspace, membership: Seat | None, code_id: int) -> GroupCode:
    require(role_of(membership), MODULE, Action.VIEW)
    return GroupCode.objects.for_workspace(workspace).select_related("persona").get(pk=code_id)


def update_code(workspace: Workspace, membership: Seat | None, code_id: int, data: CodeInput) -> GroupCode:
    """Change a code's settings, groups and welcome; its `state` and QR never change. Held under
    the code's row lock, like a rotation, so the two never write the join way over each other."""
    require(role_of(membership), MODULE, Action.EDIT)
    with transaction.atomic():
        code = GroupCode.objects.for_workspace(workspace).select_for_update().get(pk=code_id)
        if code.status == CodeStatus.EXPIRED:
            raise ValidationError(_("This code has expired; create a new one instead."))
        persona = _validate(workspace, data, code)
        before_chats = list(code.chat_ids)
        _apply(code, data, persona)
        try:
            with client_for(workspace) as client:
                client.update_join_way(JoinWayUpdate(
                    config_id=code.config_id, chat_id_list=data.chat_ids, remark=_remark(code),
                    auto_create_room=1 if code.auto_create_room else 0, room_base_name=code.room_base_name or None))
                code.welcome_template_id = welcomes.sync_template(client, code)
        except (WeComError, NotConnected) as exc:
            raise _refused(exc) from exc
        now = timezone.now()
        _relink(workspace, code, data.chat_ids, now, LinkOrigin.BOUND)
        code.chat_ids, code.status = list(data.chat_ids), CodeStatus.ACTIVE
        code.save()
        audit_change(workspace, membership, AuditAction.UPDATED, module=MODULE, subject=SUBJECT, name=code.name,
                     facts=[fact(gettext_lazy("groups"), len(data.chat_ids))] if before_chats != data.chat_ids else
                     [fact(gettext_lazy("settings"), "✓")], data={"group_code_id": code.pk})
    return code


def _relink(workspace: Workspace, code: GroupCode, bound: list[str], now: dt.datetime, origin: str) -> list[GroupCodeLink]:
    """Links for groups new to the chain (the next generations, each the child of the one before);
    `bound` marks which are bound now. Returns the new links."""
    links = {link.chat_id: link for link in GroupCodeLink.objects.for_workspace(workspace).filter(code=code)}
    top = max((link.generation for link in links.values()), default=0)
    last = max(links.values(), key=lambda link: link.generation, default=None)
    made = []
    for chat_id in bound:
        if chat_id not in links:
            top += 1
            last = GroupCodeLink.objects.create(workspace=workspace, code=code, chat_id=chat_id, generation=top,
                                                parent=last, origin=origin)
            links[chat_id] = last
            made.append(last)
    wanted = set(bound)
    GroupCodeLink.objects.for_workspace(workspace).filter(code=code, bound=True).exclude(chat_id__in=wanted).update(
        bound=False, unbound_at=now)
    GroupCodeLink.objects.for_workspace(workspace).filter(code=code, bound=False, chat_id__in=wanted).update(
        bound=True, unbound_at=None)
    return made


def delete_code(workspace: Workspace, membership: Seat | None, code_id: int) -> None:
    """Delete the join way (its QR stops working) and the welcome template, then the code."""
    require(role_of(membership), MODULE, Action.EDIT)
    code = GroupCode.objects.for_workspace(workspace).get(pk=code_id)
    try:
        with client_for(workspace) as client:
            _delete_at_wecom(client, code)
    except (WeComError, NotConnected) as exc:
        raise _refused(exc) from exc
    with transaction.atomic():
        GroupCode.objects.for_workspace(workspace).filter(pk=code.pk).delete()
        audit_change(workspace, membership, AuditAction.DELETION, module=MODULE, subject=SUBJECT, name=code.name,
                     data={"group_code_id": code.pk})


# --- what the console shows ------------------------------------------------------------------------

@dataclass(frozen=True)
class Quota:
    """WECOM.md §10: the corp's contact ways and join ways share 500,000 configs. Siyu counts the
    ones it made; ways made outside Siyu (other apps, the admin console) count at WeCom too."""

    contact_ways: int
    join_ways: int
    limit: int = CONFIG_QUOTA

    @property
    def used(self) -> int:
        return self.contact_ways + self.join_ways

    @property
    def share(self) -> float:
        return self.used / self.limit


def config_quota(workspace: Workspace) -> Quota:
    return Quota(
        contact_ways=ChannelCode.objects.for_workspace(workspace).exclude(config_id="").count(),
        join_ways=GroupCode.objects.for_workspace(workspace).exclude(config_id="").count())


@dataclass
class ChainRow:
    link: GroupCodeLink
    group: CustomerGroup | None
    members: int
    open_to_qr: bool
    full: bool


@dataclass
class CodeRow:
    code: GroupCode
    generations: int
    members: int  # in the groups bound now
    joined: int  # members of every group in the chain who joined through the code
    bound: list[ChainRow]


def _groups_by_chat(workspace: Workspace, chat_ids: set[str]) -> dict[str, CustomerGroup]:
    return {g.chat_id: g for g in CustomerGroup.objects.for_workspace(workspace).filter(chat_id__in=chat_ids)}


def _row(code: GroupCode, link: GroupCodeLink, group: CustomerGroup | None) -> ChainRow:
    members = group.member_count if group is not None else 0
    return ChainRow(link, group, members, open_to_qr=members < code.qr_cap, full=members >= code.full_at)


def chain_of(workspace: Workspace, code: GroupCode) -> list[ChainRow]:
    """The code's groups, generation by generation, with their live member counts."""
    links = list(GroupCodeLink.objects.for_workspace(workspace).filter(code=code).select_related("parent"))
    groups = _groups_by_chat(workspace, {link.chat_id for link in links})
    return [_row(code, link, groups.get(link.chat_id)) for link in links]


def joined_through(workspace: Workspace, codes: list[GroupCode]) -> dict[str, int]:
    """state -> members (still in) who joined through the code."""
    rows = (GroupMember.objects.for_workspace(workspace)
            .filter(state__in=[c.state for c in codes], left_at__isnull=True)
            .values("state").annotate(n=Count("pk")))
    return {r["state"]: r["n"] for r in rows}


def list_codes(workspace: Workspace, membership: Seat | None) -> list[CodeRow]:
    """Every code with its bound groups' live counts: three queries whatever the number of codes."""
    require(role_of(membership), MODULE, Action.VIEW)
    codes = list(GroupCode.objects.for_workspace(workspace).select_related("persona").order_by("-pk"))
    links = list(GroupCodeLink.objects.for_workspace(workspace).filter(code__in=codes))
    groups = _groups_by_chat(workspace, {link.chat_id for link in links})
    joined = joined_through(workspace, codes) if codes else {}
    rows = []
    for code in codes:
        own = [link for link in links if link.code_id == code.pk]
        bound = [_row(code, link, groups.get(link.chat_id)) for link in own if link.bound]
        rows.append(CodeRow(code, generations=max((link.generation for link in own), default=0),
                            members=sum(r.members for r in bound), joined=joined.get(code.state, 0), bound=bound))
    return rows


def group_choices(workspace: Workspace) -> list[CustomerGroup]:
    """Live groups a code may bind, smallest first (the ones with room for QR joins)."""
    return list(CustomerGroup.objects.for_workspace(workspace).filter(dismissed_at__isnull=True)
                .order_by("member_count", "name")[:500])


def next_generation(workspace: Workspace, code: GroupCode) -> int:
    top = GroupCodeLink.objects.for_workspace(workspace).filter(code=code).aggregate(top=Max("generation"))["top"]
    return (top or 0) + 1


def expire_due(workspace: Workspace, today: dt.date | None = None) -> int:
    """Codes past their expiry date: the join way goes (its QR stops working, and it no longer
    counts against the quota); the code and its chain stay for the record. Claimed one by one
    with a conditional UPDATE, so two sweeps never retire a code twice."""
    today = today or timezone.localdate()
    n = 0
    due = GroupCode.objects.for_workspace(workspace).filter(expires_on__lt=today).exclude(status=CodeStatus.EXPIRED)
    for code in due:
        if not GroupCode.objects.for_workspace(workspace).filter(pk=code.pk).exclude(
                status=CodeStatus.EXPIRED).update(status=CodeStatus.EXPIRED):
            continue
        try:
            with client_for(workspace) as client:
                if code.config_id:
                    with contextlib.suppress(JoinWayMissing):
                        client.delete_join_way(code.config_id)
        except (WeComError, NotConnected):
            GroupCode.objects.for_workspace(workspace).filter(pk=code.pk).update(status=code.status)
            logger.warning("could not retire the join way of expired group code %s", code.pk, exc_info=True)
            continue
        GroupCode.objects.for_workspace(workspace).filter(pk=code.pk).update(config_id="", chat_ids=[])
        n += 1
    return n
