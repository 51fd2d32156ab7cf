"""群黑名单 — the cross-group blacklist.

A customer removed from one of the brand's groups (WeCom's `del_member` with QuitScene 1,
WECOM.md §4) is blacklisted with the group and the reason. When a blacklisted person joins any
other group of the brand, the join is flagged and the group's owner gets a task to remove them:
WeCom has no server API that removes a member (WECOM.md §10). Operators add and lift entries by
hand, and every such change is audited. Other apps ask `is_blacklisted` (fission does, before
paying an invitation).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from siyu.accounts.models import StaffAccount
from siyu.community.models import CustomerGroup, GroupMember, MemberKind
from siyu.core.auditing import audit_change, fact
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Action, Seat, require, role_of
from siyu.customers.models import Customer
from siyu.moderation.models import BlacklistEntry, BlacklistHit, BlacklistSource
from siyu.moderation.services.common import MODULE, REMOVAL_KIND, owner_task, worded
from siyu.sop.models import StaffTask

REMOVED_REASON = gettext_noop("Removed from group “%(group)s”")
HIT_TASK_TEXT = gettext_noop("Remove “%(member)s” from group “%(group)s”: on the brand's blacklist (%(reason)s). "
                             "WeCom lets only the owner or an admin remove a member.")
MANUAL_TASK_TEXT = gettext_noop("Remove “%(member)s” from group “%(group)s”: %(reason)s")


def _active() -> Q:
    return Q(lifted_at__isnull=True)


def blacklist_entry_for(workspace: Workspace, *, external_userid: str = "", unionid: str = "") -> BlacklistEntry | None:
    """The active blacklist entry for this person, by external_userid or by unionid (an entry
    knows the unionid when the person was our customer)."""
    match = Q()
    if external_userid:
        match |= Q(external_userid=external_userid)
    if unionid:
        match |= Q(unionid=unionid)
    if not match:
        return None
    return BlacklistEntry.objects.for_workspace(workspace).filter(_active() & match).order_by("pk").first()


def is_blacklisted(workspace: Workspace, *, external_userid: str = "", unionid: str = "") -> bool:
    return blacklist_entry_for(workspace, external_userid=external_userid, unionid=unionid) is not None


def list_entries(workspace: Workspace, membership: Seat | None, *, lifted: bool = False) -> QuerySet[BlacklistEntry]:
    require(role_of(membership), MODULE, Action.VIEW)
    return (BlacklistEntry.objects.for_workspace(workspace).filter(lifted_at__isnull=not lifted)
            .select_related("source_group", "added_by__user", "customer"))


def list_hits(workspace: Workspace, membership: Seat | None) -> QuerySet[BlacklistHit]:
    require(role_of(membership), MODULE, Action.VIEW)
    return BlacklistHit.objects.for_workspace(workspace).select_related("entry", "group")


def _enter(workspace: Workspace, *, external_userid: str, unionid: str, name: str, reason: str, source: str,
           customer: Customer | None, group: CustomerGroup | None, membership: Seat | None) -> tuple[BlacklistEntry, bool]:
    """Add or reactivate an entry; an active one is left as it is (the first reason stands)."""
    held = blacklist_entry_for(workspace, external_userid=external_userid, unionid=unionid)
    if held is not None:
        return held, False
    facts = {"unionid": unionid[:64], "name": name[:64], "customer": customer, "reason": reason[:200],
             "source": source, "source_group": group, "added_by_id": getattr(membership, "pk", None),
             "lifted_at": None, "lifted_by": None, "lift_reason": ""}
    if external_userid:
        entry, created = BlacklistEntry.objects.for_workspace(workspace).get_or_create(
            workspace=workspace, external_userid=external_userid[:64], defaults=facts)
        if not created:  # a lifted entry comes back with the new reason
            for key, value in facts.items():
                setattr(entry, key, value)
            entry.created_at = timezone.now()
            entry.save()
        return entry, True
    return BlacklistEntry.objects.create(workspace=workspace, external_userid="", **facts), True


def blacklist_removed(workspace: Workspace, chat_id: str, userids: list[str], at: dt.datetime) -> int:
    """Blacklist the customers WeCom says were removed from a group (QuitScene 1). Staff are never
    blacklisted. Idempotent: an active entry stays as it is. Returns how many were added."""
    group = CustomerGroup.objects.for_workspace(workspace).filter(chat_id=chat_id).first()
    if group is None or not userids:
        return 0
    rows = {m.userid: m for m in GroupMember.objects.for_workspace(workspace)
            .filter(group=group, userid__in=userids).select_related("customer")}
    staff = set(StaffAccount.objects.for_workspace(workspace).filter(userid__in=userids)
                .values_list("userid", flat=True))
    added = 0
    with transaction.atomic():
        for userid in userids:
            row = rows.get(userid)
            if userid in staff or row is not None and row.kind == MemberKind.STAFF:
                continue
            customer = row.customer if row is not None else None
            _, new = _enter(workspace, external_userid=userid, unionid=customer.unionid if customer else "",
                            name=(row.nickname if row is not None else "") or (customer.name if customer else ""),
                            reason=worded(REMOVED_REASON, group=group.name or group.chat_id),
                            source=BlacklistSource.REMOVED, customer=customer, group=group, membership=None)
            added += new
    return added


def flag_joins(workspace: Workspace, group: CustomerGroup, rows: list[GroupMember], at: dt.datetime) -> list[BlacklistHit]:
    """Blacklisted people among members who just joined `group`: a hit each and a task for the
    owner to remove them, once per join (a replay finds the hit)."""
    customers = [r for r in rows if r.kind == MemberKind.CUSTOMER]
    if not customers:
        return []
    unionids = {r.userid: r.customer.unionid for r in customers if r.customer is not None and r.customer.unionid}
    entries = list(BlacklistEntry.objects.for_workspace(workspace).filter(
        _active() & (Q(external_userid__in=[r.userid for r in customers])
                     | Q(unionid__in=[u for u in unionids.values()]))))
    if not entries:
        return []
    by_external = {e.external_userid: e for e in entries if e.external_userid}
    by_unionid = {e.unionid: e for e in entries if e.unionid}
    hits = []
    for row in customers:
        entry = by_external.get(row.userid) or by_unionid.get(unionids.get(row.userid, ""))
        if entry is None:
            continue
        joined = row.join_time or at
        with transaction.atomic():
            hit, _created = BlacklistHit.objects.for_workspace(workspace).get_or_create(
                workspace=workspace, entry=entry, group=group, joined_at=joined, defaults={"userid": row.userid})
            if hit.task_id is None:
                task = owner_task(workspace, group, ref=f"blacklist:{hit.pk}", now=timezone.now(), kind=REMOVAL_KIND,
                                  customer_id=row.customer_id, reason="moderation.blacklist",
                                  text=worded(HIT_TASK_TEXT, member=row.nickname or entry.name or row.userid,
                                              group=group.name or group.chat_id, reason=entry.reason or "—"))
                BlacklistHit.unscoped.filter(pk=hit.pk).update(task_id=task.pk)
                hit.task_id = task.pk
        hits.append(hit)
    return hits


def add_entry(workspace: Workspace, membership: Seat | None, *, external_userid: str = "", unionid: str = "",
              name: str = "", reason: str = "") -> BlacklistEntry:
    """An operator blacklists someone by hand (audited)."""
    require(role_of(membership), MODULE, Action.EDIT)
    external_userid, unionid, name, reason = (v.strip() for v in (external_userid, unionid, name, reason))
    errors: dict[str, list[str]] = {}
    customer = None
    if not external_userid and not unionid:
        errors["external_userid"] = [_("Give the member's external userid or unionid.")]
    if not reason:
        errors["reason"] = [_("Say why.")]
    if len(external_userid) > 64 or len(unionid) > 64:
        errors["external_userid"] = [_("At most %(n)s characters.") % {"n": 64}]
    if errors:
        raise ValidationError(errors)
    if external_userid:
        customer = Customer.objects.for_workspace(workspace).filter(external_userid=external_userid).first()
        if customer is not None:
            unionid = unionid or customer.unionid
            name = name or customer.name
        else:
            name = name or (GroupMember.objects.for_workspace(workspace).filter(userid=external_userid)
                            .exclude(nickname="").values_list("nickname", flat=True).first() or "")
    with transaction.atomic():
        entry, new = _enter(workspace, external_userid=external_userid, unionid=unionid, name=name, reason=reason,
                            source=BlacklistSource.MANUAL, customer=customer, group=None, membership=membership)
        if not new:
            raise ValidationError({"external_userid": [_("Already on the blacklist.")]})
        audit_change(workspace, membership, AuditAction.CREATED, module="moderation",
                     subject=gettext_lazy("blacklist entry"), name=str(entry),
                     facts=[fact(gettext_lazy("reason"), reason)])
    return entry


def lift_entry(workspace: Workspace, membership: Seat | None, entry_id: int, reason: str) -> BlacklistEntry:
    """Take someone off the blacklist (audited); the row stays, lifted, for the history."""
    require(role_of(membership), MODULE, Action.EDIT)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why.")]})
    with transaction.atomic():
        entry = BlacklistEntry.objects.for_workspace(workspace).select_for_update().get(pk=entry_id)
        if entry.lifted_at is not None:
            raise ValidationError({"reason": [_("This entry is already lifted.")]})
        entry.lifted_at, entry.lifted_by_id, entry.lift_reason = timezone.now(), getattr(membership, "pk", None), reason[:200]
        entry.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
        audit_change(workspace, membership, AuditAction.DELETION, module="moderation",
                     subject=gettext_lazy("blacklist entry"), name=str(entry),
                     facts=[fact(gettext_lazy("reason"), reason)])
    return entry


def removal_task(workspace: Workspace, membership: Seat | None, *, group_id: int, userid: str, reason: str,
                 now: dt.datetime | None = None) -> StaffTask:
    """A task for a group's owner to remove a member, asked for by hand (audited)."""
    require(role_of(membership), MODULE, Action.EDIT)
    now = now or timezone.now()
    reason = reason.strip()
    group = CustomerGroup.objects.for_workspace(workspace).select_related("owner").get(pk=group_id)
    row = GroupMember.objects.for_workspace(workspace).filter(group=group, userid=userid.strip(),
                                                              left_at__isnull=True).first()
    errors: dict[str, list[str]] = {}
    if row is None:
        errors["userid"] = [_("Not a member of this group now.")]
    elif row.kind == MemberKind.STAFF:
        errors["userid"] = [_("Staff are not removed by a task.")]
    if not reason:
        errors["reason"] = [_("Say why.")]
    if errors:
        raise ValidationError(errors)
    assert row is not None
    with transaction.atomic():
        task = owner_task(workspace, group, ref=f"remove:{group.pk}:{row.pk}:{int(now.timestamp())}", now=now,
                          kind=REMOVAL_KIND, customer_id=row.customer_id, reason="moderation.manual",
                          text=worded(MANUAL_TASK_TEXT, member=row.nickname or row.userid,
                                      group=group.name or group.chat_id, reason=reason))
        audit_change(workspace, membership, AuditAction.CREATED, module="moderation",
                     subject=gettext_lazy("removal task"), name=row.nickname or row.userid,
                     facts=[fact(gettext_lazy("group"), group.name or group.chat_id),
                            fact(gettext_lazy("reason"), reason)])
    return task
