"""违规提醒 — keyword alerts from what Siyu can see.

Without the paid message archive Siyu never reads group messages, so two things feed alerts:
a joining member's nickname matched against the brand's keyword list (广告, 加微, 代理 …), and
a staff member's report of a message or member (from the console; the sidebar can call the same
service). Each alert gives the group's owner a task to look and, if need be, remove the member.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from siyu.community.models import CustomerGroup, GroupMember, MemberKind
from siyu.core.auditing import audit_change, change, fact
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Action, Seat, require, role_of
from siyu.moderation.models import Alert, AlertKind, BlacklistSource, KeywordList
from siyu.moderation.services.blacklist import _enter
from siyu.moderation.services.common import MODULE, REMOVAL_KIND, owner_task, worded

DEFAULT_KEYWORDS = ("广告", "加微", "加v", "vx", "代理", "招代理", "兼职", "刷单", "返利", "微商", "推广", "引流")
MAX_KEYWORDS = 200
MAX_KEYWORD_CHARS = 30
MAX_REPORT_CHARS = 1000
NICKNAME_TASK_TEXT = gettext_noop("Check “%(member)s” who just joined group “%(group)s”: the nickname holds "
                                  "“%(keyword)s”. Remove them if they break the rules.")
REPORT_TASK_TEXT = gettext_noop("A report about “%(member)s” in group “%(group)s”: %(text)s. Look, warn or remove.")


def keywords_of(workspace: Workspace) -> list[str]:
    held = KeywordList.objects.for_workspace(workspace).first()
    return list(held.words) if held is not None else list(DEFAULT_KEYWORDS)


def set_keywords(workspace: Workspace, membership: Seat | None, text: str) -> list[str]:
    """One keyword a line (or separated by commas); audited."""
    require(role_of(membership), MODULE, Action.EDIT)
    words: list[str] = []
    for raw in text.replace("，", ",").replace(",", "\n").splitlines():
        word = raw.strip()
        if word and word.lower() not in {w.lower() for w in words}:
            words.append(word)
    problems = [w for w in words if len(w) > MAX_KEYWORD_CHARS]
    if problems:
        raise ValidationError({"words": [_("At most %(n)s characters a keyword: %(words)s")
                                         % {"n": MAX_KEYWORD_CHARS, "words": "、".join(problems[:5])}]})
    if len(words) > MAX_KEYWORDS:
        raise ValidationError({"words": [_("At most %(n)s keywords.") % {"n": MAX_KEYWORDS}]})
    before = keywords_of(workspace)
    with transaction.atomic():
        KeywordList.objects.for_workspace(workspace).update_or_create(
            workspace=workspace, defaults={"words": words, "updated_by_id": getattr(membership, "pk", None)})
        audit_change(workspace, membership, AuditAction.UPDATED, module="moderation",
                     subject=gettext_lazy("keyword list"), name=_("keywords"),
                     changes=[change(gettext_lazy("keywords"), "、".join(before), "、".join(words))]
                     if before != words else None)
    return words


def matching_keyword(nickname: str, keywords: list[str]) -> str:
    folded = nickname.casefold()
    return next((k for k in keywords if k and k.casefold() in folded), "")


def screen_nicknames(workspace: Workspace, group: CustomerGroup, rows: list[GroupMember],
                     at: dt.datetime) -> list[Alert]:
    """An alert and an owner task for each joining customer whose nickname holds a keyword; once
    per join (the dedupe key names the member and the join time)."""
    keywords = keywords_of(workspace)
    alerts = []
    for row in rows:
        keyword = matching_keyword(row.nickname, keywords) if row.kind == MemberKind.CUSTOMER else ""
        if not keyword:
            continue
        joined = row.join_time or at
        key = f"nickname:{group.pk}:{row.userid}:{int(joined.timestamp())}"
        with transaction.atomic():
            alert, _created = Alert.objects.for_workspace(workspace).get_or_create(
                workspace=workspace, dedupe_key=key[:120],
                defaults={"kind": AlertKind.NICKNAME, "group": group, "userid": row.userid, "nickname": row.nickname,
                          "customer_id": row.customer_id, "keyword": keyword})
            if alert.task_id is None:
                task = owner_task(workspace, group, ref=f"alert:{alert.pk}", now=timezone.now(), kind=REMOVAL_KIND,
                                  customer_id=row.customer_id, reason="moderation.keyword",
                                  text=worded(NICKNAME_TASK_TEXT, member=row.nickname, keyword=keyword,
                                              group=group.name or group.chat_id))
                Alert.unscoped.filter(pk=alert.pk).update(task_id=task.pk)
                alert.task_id = task.pk
        alerts.append(alert)
    return alerts


@dataclass(frozen=True)
class ReportInput:
    group_id: int
    userid: str
    text: str
    blacklist: bool = False


def report(workspace: Workspace, membership: Seat | None, data: ReportInput, now: dt.datetime | None = None) -> Alert:
    """A staff member reports a message or a member of a group: an alert and a task for the owner;
    with `blacklist`, the member also goes on the blacklist (source "report"). Any role that sees
    the community may report; blacklisting needs edit."""
    require(role_of(membership), MODULE, Action.VIEW)
    if data.blacklist:
        require(role_of(membership), MODULE, Action.EDIT)
    now = now or timezone.now()
    text = data.text.strip()
    group = CustomerGroup.objects.for_workspace(workspace).select_related("owner").get(pk=data.group_id)
    row = (GroupMember.objects.for_workspace(workspace).filter(group=group, userid=data.userid.strip())
           .select_related("customer").first())
    errors: dict[str, list[str]] = {}
    if row is None:
        errors["userid"] = [_("Not a member of this group.")]
    elif row.kind == MemberKind.STAFF:
        errors["userid"] = [_("Staff are not reported here.")]
    if not text:
        errors["text"] = [_("Say what happened, or paste the message.")]
    elif len(text) > MAX_REPORT_CHARS:
        errors["text"] = [_("At most %(n)s characters.") % {"n": MAX_REPORT_CHARS}]
    if errors:
        raise ValidationError(errors)
    assert row is not None
    with transaction.atomic():
        alert = Alert.objects.create(
            workspace=workspace, kind=AlertKind.REPORT, group=group, userid=row.userid, nickname=row.nickname,
            customer=row.customer, text=text, reported_by_id=getattr(membership, "pk", None),
            dedupe_key=f"report:{group.pk}:{row.pk}:{now.timestamp():.6f}"[:120])
        task = owner_task(workspace, group, ref=f"alert:{alert.pk}", now=now, kind=REMOVAL_KIND,
                          customer_id=row.customer_id, reason="moderation.report",
                          text=worded(REPORT_TASK_TEXT, member=row.nickname or row.userid,
                                      group=group.name or group.chat_id, text=text[:200]))
        Alert.unscoped.filter(pk=alert.pk).update(task_id=task.pk)
        alert.task_id = task.pk
        if data.blacklist:
            customer = row.customer
            _enter(workspace, external_userid=row.userid, unionid=customer.unionid if customer else "",
                   name=row.nickname, reason=text[:200], source=BlacklistSource.REPORT, customer=customer,
                   group=group, membership=membership)
        audit_change(workspace, membership, AuditAction.CREATED, module="moderation", subject=gettext_lazy("report"),
                     name=row.nickname or row.userid, facts=[fact(gettext_lazy("group"), group.name or group.chat_id),
                                                             fact(gettext_lazy("blacklisted"), data.blacklist)])
    return alert


def list_alerts(workspace: Workspace, membership: Seat | None) -> QuerySet[Alert]:
    require(role_of(membership), MODULE, Action.VIEW)
    return Alert.objects.for_workspace(workspace).select_related("group", "reported_by__user")
