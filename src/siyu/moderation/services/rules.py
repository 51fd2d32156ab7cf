"""群规 — rule sets, the template library from seed 003, and publishing them.

Seed 003 (4.2.2 社群规则设定) splits a group's rules into 命名规则 (how a newcomer names and
introduces themself), 交流规则 (how to talk, against 刷屏 and ads), 任务规则 (check-ins) and
奖惩规则 (penalties: 犯规踢出, 积分淘汰, 成果淘汰, and 人员定额 for fixed-size groups). A rule set
keeps three parts: join rules, behaviour, penalties.

WeCom has no server API that sets a customer group's notice (群公告; WECOM.md §4 and §10), so
publishing gives each group's owner a task with the text to post; the community app sees the
new notice through `change_notice` and the page shows which groups carry the current rules.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from siyu.community.models import CustomerGroup, GroupType
from siyu.core.auditing import audit_change, change, fact, model_changes, snapshot
from siyu.core.models import AuditAction, Workspace
from siyu.core.permissions import Action, Seat, require, role_of
from siyu.moderation.models import RuleSet
from siyu.moderation.services.common import MODULE, NOTICE_SLA_HOURS, owner_task, worded
from siyu.sop.models import TaskKind, TaskPriority

MAX_PART_CHARS = 1000
AUDITED_FIELDS = ("name", "join_rules", "behaviour", "penalties")
AUDIT_LABELS = {"name": gettext_lazy("name"), "join_rules": gettext_lazy("join rules"),
                "behaviour": gettext_lazy("behaviour"), "penalties": gettext_lazy("penalties")}


@dataclass(frozen=True)
class RuleTemplate:
    key: str
    title: str
    join_rules: str
    behaviour: str
    penalties: str


# The library, written from seed 003's practice (命名/交流/任务/奖惩规则). Content for members of
# Chinese groups, so it is Chinese whatever the console's language.
TEMPLATES: tuple[RuleTemplate, ...] = (
    RuleTemplate(
        "welfare", "福利群群规",
        "1. 入群后请将群昵称改为「城市-昵称」，如「杭州-小米」。\n2. 新人进群请用一句话介绍自己，说说想在群里得到什么福利。",
        "1. 群内只发与本群福利相关的内容，不发广告、链接、二维码和小程序。\n2. 不私加群友推销，不刷屏，不发红包拉人。\n"
        "3. 福利、秒杀和抽奖以群主发布为准，有疑问请私聊群主。",
        "1. 第一次违规：群主私聊提醒。\n2. 再次违规或发广告、拉人：移出本群，并不再邀请进入品牌的其他群。",
    ),
    RuleTemplate(
        "knowledge", "学习群群规",
        "1. 群昵称格式「行业-姓名」，方便大家互相认识。\n2. 入群后做一次自我介绍：从事什么、想学什么。",
        "1. 讨论围绕课程与学习，提问前先看群公告和置顶资料。\n2. 每日打卡：早起打卡或学习任务打卡，连续打卡有积分奖励。\n"
        "3. 分享干货欢迎，广告、引流和无关链接禁止。",
        "1. 违规发言提醒一次，再犯移出本群。\n2. 积分淘汰：每期末积分排名靠后的成员将被提醒并请出，为候补名单腾出名额。",
    ),
    RuleTemplate(
        "vip", "会员群群规",
        "1. 本群仅限会员，入群请将昵称改为「会员号后四位-昵称」。\n2. 会员权益、活动预告以群公告为准。",
        "1. 尊重每一位会员，理性交流，不发布与品牌无关的商业信息。\n2. 售后问题请私聊专属客服，我们会在群内先行回应，私下跟进到解决。",
        "1. 违规内容将被撤回并私聊提醒。\n2. 屡次违规或发布广告者移出本群并取消入群资格。",
    ),
    RuleTemplate(
        "event", "活动群群规",
        "1. 本群为限时活动群，活动结束后 3 天解散。\n2. 入群请改昵称为「活动名-昵称」，方便核对名单。",
        "1. 活动规则、流程和开奖以群主发布为准。\n2. 任务打卡按时在群内完成，截图请勿刷屏。\n3. 禁止广告、拉票和私加群友。",
        "1. 作弊或刷票取消获奖资格。\n2. 发广告、拉人者直接移出本群，不再邀请参加后续活动。",
    ),
    RuleTemplate(
        "interest", "兴趣群群规",
        "1. 欢迎同好！入群请改昵称为「兴趣方向-昵称」。\n2. 新人请发一张作品或一句话介绍自己的爱好。",
        "1. 多分享、多互动，话题围绕共同爱好。\n2. 不争吵、不人身攻击，不发广告、二维码和无关链接。\n3. 每周主题讨论请积极参与。",
        "1. 违规者先提醒，再犯移出本群。\n2. 长期潜水且不参与活动的成员，满员时优先请出，为新同好腾出名额。",
    ),
)
TEMPLATE_KEYS = {t.key: t for t in TEMPLATES}

SECTION_TITLES = (gettext_noop("Joining"), gettext_noop("In the group"), gettext_noop("Breaches"))
NOTICE_TASK_TEXT = gettext_noop("Post the group rules “%(name)s” as the notice of group “%(group)s” "
                                "(WeCom lets only the owner set a notice): %(text)s")


def rules_of(workspace: Workspace) -> QuerySet[RuleSet]:
    return RuleSet.objects.for_workspace(workspace).all()


def get_rules(workspace: Workspace, membership: Seat | None, rules_id: int) -> RuleSet:
    require(role_of(membership), MODULE, Action.VIEW)
    return RuleSet.objects.for_workspace(workspace).get(pk=rules_id)


def _part(value: str, field: str, errors: dict[str, list[str]]) -> str:
    value = value.strip()
    if len(value) > MAX_PART_CHARS:
        errors.setdefault(field, []).append(_("At most %(n)s characters.") % {"n": MAX_PART_CHARS})
    return value


def save_rules(workspace: Workspace, membership: Seat | None, *, name: str, group_type: str = "",
               join_rules: str = "", behaviour: str = "", penalties: str = "", template: str = "",
               rules_id: int | None = None) -> RuleSet:
    """Create or edit a rule set. A change of text is a new version, to publish again."""
    require(role_of(membership), MODULE, Action.EDIT)
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name:
        errors["name"] = [_("Give the rules a name.")]
    elif len(name) > 60:
        errors["name"] = [_("At most %(n)s characters.") % {"n": 60}]
    if group_type not in GroupType.values:
        errors["group_type"] = [_("Choose a group type, or none for every group.")]
    if template and template not in TEMPLATE_KEYS:
        errors["template"] = [_("No such template.")]
    parts = {f: _part(v, f, errors) for f, v in
             (("join_rules", join_rules), ("behaviour", behaviour), ("penalties", penalties))}
    if not errors and not any(parts.values()):
        errors["behaviour"] = [_("Write at least one part of the rules.")]
    with transaction.atomic():
        held = RuleSet.objects.for_workspace(workspace).filter(group_type=group_type).first()
        if rules_id is not None:
            rules = RuleSet.objects.for_workspace(workspace).select_for_update().get(pk=rules_id)
            if held is not None and held.pk != rules.pk:
                errors["group_type"] = [_("These group types already have rules of their own.")]
        else:
            rules = RuleSet(workspace=workspace)
            if held is not None:
                errors["group_type"] = [_("These group types already have rules of their own.")]
        if errors:
            raise ValidationError(errors)
        before = snapshot(rules, AUDITED_FIELDS) if rules.pk else None
        text_changed = rules.pk is not None and any(getattr(rules, f) != v for f, v in parts.items())
        rules.name, rules.group_type, rules.template = name, group_type, template or rules.template
        for field, value in parts.items():
            setattr(rules, field, value)
        if text_changed:
            rules.version += 1
        rules.save()
        if before is None:
            audit_change(workspace, membership, AuditAction.CREATED, module="moderation",
                         subject=gettext_lazy("group rules"), name=name)
        else:
            audit_change(workspace, membership, AuditAction.UPDATED, module="moderation",
                         subject=gettext_lazy("group rules"), name=name,
                         changes=model_changes(before, rules, AUDITED_FIELDS, AUDIT_LABELS))
    return rules


def rules_text(rules: RuleSet) -> str:
    """The rules as members read them: the name, then each part under its heading."""
    with_heading = [(_(title), body) for title, body in
                    zip(SECTION_TITLES, (rules.join_rules, rules.behaviour, rules.penalties), strict=True) if body]
    return "\n".join([f"【{rules.name}】", *(f"{title}：\n{body}" for title, body in with_heading)])


def rules_for(workspace: Workspace, group: CustomerGroup) -> RuleSet | None:
    """The rules that apply to a group: its type's own, else the brand's default (no type)."""
    held = {r.group_type: r for r in RuleSet.objects.for_workspace(workspace).filter(group_type__in=(group.type, ""))}
    return held.get(group.type) or held.get("")


def rules_text_for(workspace: Workspace, group: CustomerGroup) -> str:
    """The text to append to a group's welcome (the group-code helper uses it), or "" when the
    brand has no rules for the group."""
    rules = rules_for(workspace, group)
    return rules_text(rules) if rules is not None else ""


def groups_under(workspace: Workspace, rules: RuleSet) -> list[CustomerGroup]:
    """The live groups these rules apply to."""
    groups = CustomerGroup.objects.for_workspace(workspace).filter(dismissed_at__isnull=True).select_related("owner")
    if rules.group_type:
        return list(groups.filter(type=rules.group_type))
    typed = set(RuleSet.objects.for_workspace(workspace).exclude(group_type="").values_list("group_type", flat=True))
    return list(groups.exclude(type__in=typed))


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def notice_carries(group: CustomerGroup, text: str) -> bool:
    """Whether the group's notice (as the community app last read it) holds these rules."""
    return bool(text) and _squash(text) in _squash(group.notice)


def publish_rules(workspace: Workspace, membership: Seat | None, rules_id: int,
                  now: dt.datetime | None = None) -> int:
    """A task for the owner of each group these rules apply to, to post them as the notice; once
    per group and version. Returns how many tasks were made."""
    require(role_of(membership), MODULE, Action.EDIT)
    now = now or timezone.now()
    rules = RuleSet.objects.for_workspace(workspace).get(pk=rules_id)
    text = rules_text(rules)
    made = 0
    for group in groups_under(workspace, rules):
        if notice_carries(group, text):
            continue  # already the notice: nothing for the owner to do
        ref = f"notice:{group.pk}:{rules.pk}:v{rules.version}"
        task = owner_task(workspace, group, ref=ref, now=now, kind=TaskKind.SEND, sla_hours=NOTICE_SLA_HOURS,
                          priority=TaskPriority.NORMAL, reason="moderation.notice",
                          text=worded(NOTICE_TASK_TEXT, name=rules.name, group=group.name or group.chat_id, text=text))
        made += task.created_at >= now
    with transaction.atomic():
        RuleSet.unscoped.filter(pk=rules.pk).update(published_at=now, published_version=rules.version)
        audit_change(workspace, membership, AuditAction.UPDATED, module="moderation",
                     subject=gettext_lazy("group rules"), name=rules.name,
                     changes=[change(gettext_lazy("published version"), rules.published_version, rules.version)],
                     facts=[fact(gettext_lazy("owner tasks"), made)])
    return made
