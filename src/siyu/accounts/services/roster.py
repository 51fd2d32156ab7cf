"""花名册 — staff accounts (企微号) as WeCom events find them, their sync from WeCom, listing and
editing."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.accounts.models import MAX_FRIEND_LIMIT, AccountDay, Grouping, StaffAccount
from siyu.accounts.services.capacity import (
    ALERT_LEVELS,
    AccountCapacity,
    capacity_of,
    raise_alert_if_crossed,
    reset_alert_level,
)
from siyu.accounts.services.kit import (
    avatar_hash,
)
from siyu.core.models import AuditAction, Membership, Workspace
from siyu.core.permissions import Action, Module, Seat, allows, require, role_of
from siyu.core.services import audit_change, model_changes, snapshot
from siyu.ip.models import Persona
from siyu.ip.services import check_avatar, stored_image
from siyu.wecom.client import StaffGone
from siyu.wecom.services import client_for

# WECOM.md §3 friend limits: an account starts at 5,000 and is expanded up to 20,000.
MIN_FRIEND_LIMIT = 1
GROUP_NAME_MAX = 60
COVER_MAX = 200
SIGNATURE_MAX = 120
GREETING_MAX = 1000



def can_edit(membership: Membership | None) -> bool:
    role = role_of(membership)
    return role is not None and allows(role, Module.CHANNELS, Action.EDIT)


# --- accounts as WeCom events find them -------------------------------------------------------------

def account_for_userid(workspace: Workspace, userid: str) -> StaffAccount:
    """The brand's account for a WeCom userid, created on first sight (an add event may arrive
    before the first sync; the sync fills in the name later)."""
    account, _ = StaffAccount.objects.for_workspace(workspace).get_or_create(
        workspace=workspace, userid=userid, defaults={"name": userid})
    return account


def record_follow_change(account: StaffAccount, at: dt.datetime, *, added: bool, count: int = 1) -> None:
    """Count one friend (or `count` friends) gained (`added`) or lost on the account and on its day.

    Called by the customers app inside the transaction that creates, reactivates or ends the
    follow relation, so the counters move exactly once per real change. An add that carries the
    account across 80 % or 95 % of its limit publishes `accounts.capacity_alert` (once)."""
    day = timezone.localdate(at)
    with transaction.atomic():
        StaffAccount.unscoped.filter(pk=account.pk).update(
            # never below zero, even for a loss of a friend made before the first sync
            friend_count=F("friend_count") + count if added
            else Case(When(friend_count__gte=count, then=F("friend_count") - count), default=Value(0)))
        row, _ = AccountDay.unscoped.get_or_create(workspace_id=account.workspace_id, account=account, day=day)
        column = "adds" if added else "losses"
        AccountDay.unscoped.filter(pk=row.pk).update(**{column: F(column) + count})
        if added:
            raise_alert_if_crossed(account.pk)


# --- sync from WeCom -------------------------------------------------------------------------------

# `user/list_id` returns at most 10,000 rows a page (one row per member and department).
STAFF_PAGE_SIZE = 10_000
# `user/get` status: 1 activated; 2 disabled, 4 not activated, 5 left the corp.
ACTIVE_STATUS = 1


@dataclass(frozen=True)
class SyncResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def listed(self) -> int:
        return len(self.created) + len(self.updated) + self.unchanged


def sync_accounts(workspace: Workspace, membership: Seat | None) -> SyncResult:
    """Bring the brand's accounts in line with WeCom's address book: every listed member is
    created or updated (name, position, departments, active from `status`); an account no
    longer listed is marked inactive, never deleted (its customers and numbers stay).

    The demo and the command line pass `siyu.core.services.OPERATOR` as the membership."""
    require(role_of(membership), Module.CHANNELS, Action.EDIT)
    members = []
    with client_for(workspace) as client:
        userids: dict[str, None] = {}  # one row per (member, department): keep each member once
        cursor = ""
        while True:
            page = client.list_staff_ids(cursor=cursor, limit=STAFF_PAGE_SIZE)
            userids.update((row.userid, None) for row in page.dept_user)
            if not page.next_cursor or page.next_cursor == cursor:
                break
            cursor = page.next_cursor
        for userid in userids:
            with contextlib.suppress(StaffGone):  # left between `user/list_id` and the read
                members.append(client.get_staff(userid))

    now = timezone.now()
    created: list[str] = []
    updated: list[str] = []
    fields = ["name", "position", "department_ids", "active"]
    with transaction.atomic():
        accounts = StaffAccount.objects.for_workspace(workspace)
        existing = {a.userid: a for a in accounts.select_for_update()}
        new, changed, same = [], [], []
        for member in members:
            values = {
                "name": (member.name or member.userid)[:64],
                "position": member.position[:64],
                "department_ids": sorted(member.department),
                "active": member.status in (None, ACTIVE_STATUS),
            }
            account = existing.get(member.userid)
            if account is None:
                new.append(StaffAccount(workspace=workspace, userid=member.userid, synced_at=now, **values))
                created.append(member.userid)
                continue
            if any(getattr(account, k) != v for k, v in values.items()):
                for key, value in values.items():
                    setattr(account, key, value)
                changed.append(account)
                updated.append(member.userid)
            else:
                same.append(account.pk)
            account.synced_at = now
        accounts.bulk_create(new)
        accounts.bulk_update(changed, [*fields, "synced_at"])
        accounts.filter(pk__in=same).update(synced_at=now)
        listed = {m.userid for m in members}
        gone = [a for a in existing.values() if a.userid not in listed and a.active]
        accounts.filter(pk__in=[a.pk for a in gone]).update(active=False, synced_at=now)
    return SyncResult(created=created, updated=updated, deactivated=[a.userid for a in gone],
                      unchanged=len(same))


# --- listing -------------------------------------------------------------------------------------------

@dataclass
class AccountGroup:
    """Accounts of one store or brand line (seed 001), or those not yet grouped."""

    grouping: str
    name: str
    rows: list[AccountCapacity] = field(default_factory=list)

    @property
    def label(self) -> str:
        if not self.grouping:
            return _("Not grouped yet")
        return f"{Grouping(self.grouping).label} · {self.name}"


@dataclass(frozen=True)
class AccountsOverview:
    groups: list[AccountGroup]
    active: int
    inactive: list[AccountCapacity]  # members who left the corp or were disabled
    friends: int
    capacity: int
    alerts_80: list[AccountCapacity]  # at or above 80 % but below 95 %
    alerts_95: list[AccountCapacity]
    soonest_full: AccountCapacity | None
    limit_disagrees: list[AccountCapacity] = field(default_factory=list)  # WeCom refused them below Siyu's limit


def list_accounts(workspace: Workspace, membership: Membership | None, today: dt.date | None = None) -> list[AccountCapacity]:
    """Every account of the brand with its capacity and forecast: active first, by name."""
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    accounts = list(StaffAccount.objects.for_workspace(workspace).select_related("persona")
                    .order_by("-active", "name", "userid"))
    return capacity_of(workspace, accounts, today)


def accounts_overview(workspace: Workspace, membership: Membership | None, today: dt.date | None = None) -> AccountsOverview:
    """The accounts page: active accounts grouped by store or brand line (groups by kind then
    name, the ungrouped last), inactive ones apart, and the summary on top."""
    rows = list_accounts(workspace, membership, today)
    active = [r for r in rows if r.account.active]
    groups: dict[tuple[str, str], AccountGroup] = {}
    for row in active:
        a = row.account
        key = (a.grouping, a.group_name) if a.grouping else ("", "")
        groups.setdefault(key, AccountGroup(*key)).rows.append(row)
    order = sorted(groups, key=lambda k: (not k[0], k[0], k[1]))
    filling = [r for r in active if r.days_until_full not in (None, 0)]
    return AccountsOverview(
        groups=[groups[k] for k in order],
        active=len(active),
        inactive=[r for r in rows if not r.account.active],
        friends=sum(r.account.friend_count for r in active),
        capacity=sum(r.account.friend_limit for r in active),
        alerts_80=[r for r in active if r.alert == ALERT_LEVELS[0]],
        alerts_95=[r for r in active if r.alert == ALERT_LEVELS[-1]],
        soonest_full=min(filling, key=lambda r: r.days_until_full or 0, default=None),
        limit_disagrees=[r for r in active if r.limit_disagrees],
    )


def get_account(workspace: Workspace, membership: Membership | None, account_id: int) -> StaffAccount:
    """One account of this brand; another brand's id is simply not found."""
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    return StaffAccount.objects.for_workspace(workspace).select_related("persona").get(pk=account_id)


def account_for_editing(workspace: Workspace, membership: Membership | None, account_id: int) -> StaffAccount:
    require(role_of(membership), Module.CHANNELS, Action.EDIT)
    return StaffAccount.objects.for_workspace(workspace).select_related("persona").get(pk=account_id)


def operator_options(workspace: Workspace, membership: Membership | None) -> list[Membership]:
    """Members who may run an account (and get its churn and capacity notices): this brand's."""
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    return list(Membership.objects.for_workspace(workspace).select_related("user").order_by("user__username"))


def persona_options(workspace: Workspace, membership: Membership | None) -> list[Persona]:
    """Personas an account may embody: this brand's only."""
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    return list(Persona.objects.for_workspace(workspace).order_by("name"))


def kit_avatar_file(workspace: Workspace, membership: Membership | None, account_id: int) -> tuple[File, str]:
    """The account's avatar as uploaded by the planner, and its content type."""
    account = get_account(workspace, membership, account_id)
    if not account.kit_avatar.name:
        raise StaffAccount.DoesNotExist("account has no avatar")
    return stored_image(account.kit_avatar)


# --- editing ---------------------------------------------------------------------------------------------

@dataclass
class AccountInput:
    """The account form's answers."""

    persona_id: int | None = None
    grouping: str = ""
    group_name: str = ""
    friend_limit: int | None = None
    moments_cover: str = ""
    signature: str = ""
    greeting: str = ""
    operator_id: int | None = None  # the console member who runs the account (churn, capacity notices)


@dataclass(frozen=True)
class AccountSaved:
    account: StaffAccount
    warnings: list[str] = field(default_factory=list)


def _account_errors(workspace: Workspace, data: AccountInput) -> tuple[dict[str, list[str]], Persona | None]:
    errors: dict[str, list[str]] = {}
    persona = None
    if data.persona_id is not None:
        persona = Persona.objects.for_workspace(workspace).filter(pk=data.persona_id).first()
        if persona is None:
            errors["persona"] = [_("Choose a persona of this brand.")]
    if data.operator_id is not None and not Membership.objects.for_workspace(workspace).filter(pk=data.operator_id).exists():
        errors["operator"] = [_("Choose a member of this brand.")]
    if data.grouping and data.grouping not in Grouping.values:
        errors["grouping"] = [_("Choose store or brand line.")]
    if data.grouping and not data.group_name:
        errors["group_name"] = [_("Name the store or brand line this account belongs to.")]
    if data.group_name and not data.grouping:
        errors["grouping"] = [_("Say whether “%(name)s” is a store or a brand line.") % {"name": data.group_name}]
    if len(data.group_name) > GROUP_NAME_MAX:
        errors.setdefault("group_name", []).append(_("Keep it within %(n)s characters.") % {"n": GROUP_NAME_MAX})
    if data.friend_limit is None or not MIN_FRIEND_LIMIT <= data.friend_limit <= MAX_FRIEND_LIMIT:
        # WECOM.md §3 friend limits
        errors["friend_limit"] = [_("The friend limit is between %(min)s and %(max)s (WeCom expands an "
                                    "account up to %(max)s).") % {"min": MIN_FRIEND_LIMIT, "max": f"{MAX_FRIEND_LIMIT:,}"}]
    for name, limit in (("moments_cover", COVER_MAX), ("signature", SIGNATURE_MAX), ("greeting", GREETING_MAX)):
        if len(getattr(data, name)) > limit:
            errors[name] = [_("Keep it within %(n)s characters.") % {"n": limit}]
    return errors, persona


# What the audit log compares when an account is saved (the friend limit is its capacity).
AUDITED_ACCOUNT_FIELDS = ("persona", "operator", "grouping", "group_name", "friend_limit", "moments_cover",
                          "signature", "greeting", "kit_avatar")


def save_account(
    workspace: Workspace,
    membership: Seat | None,
    account_id: int,
    data: AccountInput,
    kit_avatar: File | None = None,
) -> AccountSaved:
    """Save what the planner sets on an account: persona, grouping, friend limit and the
    profile kit as shown. Every problem is reported at once, each on its field; nothing is
    saved unless all is well. A limit below the current friends is allowed (WeCom may have
    shrunk it) but comes back as a warning."""
    require(role_of(membership), Module.CHANNELS, Action.EDIT)
    account = StaffAccount.objects.for_workspace(workspace).get(pk=account_id)
    data.group_name = (data.group_name or "").strip()
    data.moments_cover = (data.moments_cover or "").strip()
    data.signature = (data.signature or "").strip()
    data.greeting = (data.greeting or "").strip()
    errors, persona = _account_errors(workspace, data)
    checked = None
    if kit_avatar is not None:
        try:
            checked = check_avatar(kit_avatar)
        except ValidationError as exc:
            errors.setdefault("kit_avatar", []).extend(exc.message_dict["avatar"])
    if errors:
        raise ValidationError(errors)
    assert data.friend_limit is not None

    limit_changed = data.friend_limit != account.friend_limit
    wecom_full = (account.wecom_full_friends, account.wecom_full_at)
    before = snapshot(account, AUDITED_ACCOUNT_FIELDS)
    account.persona = persona
    account.operator_id = data.operator_id
    account.grouping = data.grouping
    account.group_name = data.group_name if data.grouping else ""
    account.friend_limit = data.friend_limit
    account.moments_cover, account.signature, account.greeting = data.moments_cover, data.signature, data.greeting
    old_avatar = account.kit_avatar.name if account.kit_avatar else ""
    if checked is not None:
        account.kit_avatar.save(f"{uuid.uuid4().hex}.{checked.extension}", ContentFile(checked.content), save=False)
        account.kit_avatar_hash = avatar_hash(checked.content)
    with transaction.atomic():
        # Only the fields this form owns: the counters move concurrently with every add.
        account.save(update_fields=["persona", "operator", "grouping", "group_name", "friend_limit", "moments_cover",
                                    "signature", "greeting", "kit_avatar", "kit_avatar_hash"])
        account.refresh_from_db(fields=["friend_count", "capacity_alert_level"])
        if limit_changed:
            reset_alert_level(account)
            # The planner has set the limit again, knowing what WeCom said: a new refusal re-signals.
            StaffAccount.unscoped.filter(pk=account.pk).update(wecom_full_at=None, wecom_full_friends=None)
        audit_change(workspace, membership, AuditAction.UPDATED, module="accounts", subject=gettext_lazy("staff account"),
                     name=account.name or account.userid,
                     changes=model_changes(before, account, AUDITED_ACCOUNT_FIELDS))
    if checked is not None and old_avatar:
        storage = account.kit_avatar.storage
        transaction.on_commit(lambda: storage.delete(old_avatar))
    warnings = []
    refused_at, refused_on = wecom_full
    if limit_changed and refused_at is not None and refused_on is not None and data.friend_limit > refused_at:
        warnings.append(_("WeCom refused %(account)s as full at %(count)s friends on %(date)s. A limit of %(limit)s "
                          "is right only if the account has been expanded in WeCom since.") % {
            "account": account.name or account.userid, "count": refused_at, "limit": data.friend_limit,
            "date": timezone.localtime(refused_on).strftime("%Y-%m-%d")})
    if account.friend_count > account.friend_limit:
        warnings.append(_("%(account)s already has %(count)s friends, more than the new limit of %(limit)s: "
                          "no new friends will be routed to it.") % {
            "account": account.name, "count": account.friend_count, "limit": account.friend_limit})
    return AccountSaved(account, warnings)
