"""The demo brand's acquisition loop, prepared once the WeCom twin answers: the twin's four
persona accounts synced and dressed as 小完子, a new-friend coupon and a knowledge pack, and six
channel codes of different touchpoints, routing and cost — the codes the twin's synthetic
customers scan (see `siyu.simulator.demo.DEMO_TOUCHPOINTS`). Then the CRM around them: tag groups
created at WeCom (two required for tag completeness), auto-tag rules by channel and behaviour,
custom profile fields, and four segments that fill as customers arrive.

Everything goes through the same services the console uses; a later start finds what exists,
re-creates the contact ways the restarted twin forgot, and changes nothing else.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

import httpx
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from siyu.accounts import services as accounts
from siyu.accounts.models import Grouping, StaffAccount
from siyu.channels.models import ChannelCode, RoutingStrategy, Touchpoint, Welfare, WelfareKind
from siyu.channels.services import analytics, codes, welfare
from siyu.core.models import Workspace
from siyu.core.services import OPERATOR
from siyu.core.tenancy import workspace_context
from siyu.customers.models import CustomField, FieldKind, LifecycleStage
from siyu.customers.services import profile
from siyu.ip.demo import DEMO_PERSONA, draw_avatar
from siyu.ip.models import Persona
from siyu.segments import services as segments
from siyu.segments.models import Segment
from siyu.tags import services as tags
from siyu.tags.models import RuleKind, TagRule
from siyu.tags.services import rules as tag_rules

logger = logging.getLogger("siyu.demo")

COUPON = "新人专享券"
KNOWLEDGE_PACK = "护肤小白入门手册"
WELCOME = (
    "{customer_nickname}你好呀～我是{persona_name}，终于等到你啦！🎉\n"
    "送你一份见面礼：{welfare}\n有任何美妆护肤的问题都可以随时问我哦～"
)

# (name = the contact way's remark the population scans, touchpoint, strategy, account suffixes
#  (the last marked backup when prefixed "b"), welfare, spend in yuan over the last 7 days)
DEMO_CODES: list[tuple[str, str, str, list[str], str, int]] = [
    ("门店扫码", Touchpoint.STORE, RoutingStrategy.ROUND_ROBIN, ["01", "02", "b03"], COUPON, 800),
    ("信息流广告", Touchpoint.ONLINE_AD, RoutingStrategy.LEAST_FILLED, ["03", "04"], COUPON, 6000),
    ("包裹卡", Touchpoint.PARCEL_CARD, RoutingStrategy.WEIGHTED, ["01", "02", "03", "04"], KNOWLEDGE_PACK, 1200),
    ("小程序商城", Touchpoint.MINI_PROGRAM, RoutingStrategy.ROUND_ROBIN, ["02", "03"], COUPON, 0),
    ("线下快闪活动", Touchpoint.OFFLINE_EVENT, RoutingStrategy.ROUND_ROBIN, ["01", "b02"], KNOWLEDGE_PACK, 3000),
    ("推手·小美", Touchpoint.PROMOTER, RoutingStrategy.ROUND_ROBIN, ["04"], COUPON, 500),
]


def acquisition_loop_starter(workspace: Workspace, twin_url: str) -> Callable[[], None]:
    """What `siyu demo` runs in the background once its processes are started."""

    def start() -> None:
        if not wait_for_twin(twin_url):
            logger.warning("the WeCom twin at %s did not answer; the demo channels are not set up", twin_url)
            return
        try:
            prepare_acquisition(workspace)
        except Exception:
            logger.exception("setting up the demo channels failed")

    return start


def wait_for_twin(twin_url: str, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{twin_url}/twin/state", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def prepare_acquisition(workspace: Workspace) -> list[ChannelCode]:
    with workspace_context(workspace):
        accounts.sync_accounts(workspace, OPERATOR)  # type: ignore[arg-type]
        persona = Persona.objects.filter(name=DEMO_PERSONA).first()
        by_suffix = _dress_accounts(workspace, persona)
        coupon, pack = _ensure_welfare(workspace)
        made = _ensure_codes(workspace, by_suffix, {COUPON: coupon, KNOWLEDGE_PACK: pack})
        codes.reconcile_contact_ways(workspace)
        prepare_crm(workspace)
    return made


# (group, required for completeness, tags)
DEMO_TAG_GROUPS: list[tuple[str, bool, list[str]]] = [
    ("渠道来源", False, ["门店新客", "广告引流", "包裹卡用户"]),
    ("肤质", True, ["干皮", "油皮", "混合皮", "敏感肌"]),
    ("购买意向", True, ["高意向", "观望中", "已购买"]),
]
# channel-code name -> the 渠道来源 tag its customers get by rule
DEMO_CHANNEL_TAGS = {"门店扫码": "门店新客", "信息流广告": "广告引流", "包裹卡": "包裹卡用户"}
DEMO_FIELDS: list[tuple[str, str, str, list[str]]] = [
    ("member_level", "会员等级", FieldKind.CHOICE, ["普通会员", "银卡", "金卡"]),
    ("city", "所在城市", FieldKind.TEXT, []),
    ("total_spend", "累计消费（元）", FieldKind.NUMBER, []),
]


def prepare_crm(workspace: Workspace) -> None:
    """Tags (synced with the twin first: a restarted twin has forgotten them, so they are created
    again), rules, custom fields and segments. Each exists once; segments follow the live tags."""
    tags.sync_tags(workspace, OPERATOR)  # type: ignore[arg-type]
    live = {g.name: g for g in tags.live_groups(workspace, OPERATOR)}  # type: ignore[arg-type]
    for name, required, tag_names in DEMO_TAG_GROUPS:
        if name not in live:
            tags.create_group(workspace, OPERATOR, name, tag_names, required=required)  # type: ignore[arg-type]
    tag_id = dict(tags.live_tags(workspace).values_list("name", "pk"))
    states = dict(ChannelCode.objects.values_list("name", "state"))
    ruled = set(TagRule.objects.filter(tag__deleted_at__isnull=True).values_list("name", flat=True))
    wanted_rules = [
        (f"{code}→{tag}", tag, RuleKind.CHANNEL, {"states": [states[code]]})
        for code, tag in DEMO_CHANNEL_TAGS.items() if code in states
    ] + [("加好友7天未互动→观望中", "观望中", RuleKind.BEHAVIOUR, {"days": 7})]
    for rule_name, tag, kind, params in wanted_rules:
        if rule_name not in ruled and tag in tag_id:
            TagRule.objects.filter(name=rule_name).delete()  # one pointing at a tag the twin forgot
            tag_rules.create_rule(workspace, OPERATOR, tag_rules.RuleInput(  # type: ignore[arg-type]
                name=rule_name, tag_id=tag_id[tag], kind=kind, params=params))
    have_fields = set(CustomField.objects.values_list("key", flat=True))
    for position, (key, label, kind, choices) in enumerate(DEMO_FIELDS):
        if key not in have_fields:
            profile.save_field(workspace, OPERATOR, None, key=key, label=label, kind=kind,  # type: ignore[arg-type]
                               choices=choices, position=position)
    wanted_segments = {
        "门店新客": {"match": "and", "rules": [{"field": "tags", "op": "any", "value": [tag_id["门店新客"]]}]},
        "高意向或已购买": {"match": "and", "rules": [
            {"field": "tags", "op": "any", "value": [tag_id["高意向"], tag_id["已购买"]]},
            {"field": "following", "op": "is", "value": True}]},
        "近7天新增且未流失": {"match": "and", "rules": [
            {"field": "added_at", "op": "within_days", "value": 7},
            {"field": "stage", "op": "not_in", "value": [LifecycleStage.LOST]}]},
        "沉睡或流失客户": {"match": "or", "rules": [
            {"field": "stage", "op": "in", "value": [LifecycleStage.DORMANT, LifecycleStage.LOST]}]},
    }
    existing = {s.name: s for s in Segment.objects.all()}
    for name, rule in wanted_segments.items():
        data = segments.SegmentInput(name=name, description="演示人群", rule=rule)
        if name not in existing:
            segments.create_segment(workspace, OPERATOR, data)  # type: ignore[arg-type]
        elif existing[name].rule != segments.clean_rule(workspace, rule):
            segments.update_segment(workspace, OPERATOR, existing[name].pk, data)  # type: ignore[arg-type]


def _dress_accounts(workspace: Workspace, persona: Persona | None) -> dict[str, StaffAccount]:
    """The twin's 小完子01–04 embody the demo persona, with the profile kit mostly right (03's
    signature is left stale, so the kit check has something to show)."""
    by_suffix: dict[str, StaffAccount] = {}
    for account in StaffAccount.objects.filter(name__startswith=DEMO_PERSONA, active=True):
        suffix = account.name.removeprefix(DEMO_PERSONA)
        by_suffix[suffix] = account
        if account.persona_id or persona is None:
            continue
        accounts.save_account(
            workspace, OPERATOR, account.pk,  # type: ignore[arg-type]
            accounts.AccountInput(
                persona_id=persona.pk, grouping=Grouping.BRAND_LINE, group_name="小完子美妆",
                friend_limit=account.friend_limit, moments_cover="粉色系美妆桌面实拍，带品牌slogan",
                signature="每天分享一个变美小技巧" if suffix == "03" else persona.slogan,
                greeting=f"你好呀，我是{persona.name}，你的专属美妆顾问～",
            ),
            kit_avatar=SimpleUploadedFile("avatar.png", draw_avatar(), content_type="image/png"),
        )
    return by_suffix


def _ensure_welfare(workspace: Workspace) -> tuple[Welfare, Welfare]:
    existing = {w.name: w for w in Welfare.objects.all()}
    if COUPON not in existing:
        coupon = welfare.create_welfare(workspace, OPERATOR, welfare.WelfareInput(  # type: ignore[arg-type]
            name=COUPON, kind=WelfareKind.COUPON, description="满99减20新人券，小程序商城可用"))
        pool = "\n".join(f"XWZ{n:06d}" for n in range(1, 3001))
        welfare.upload_codes(workspace, OPERATOR, coupon.pk, text=pool)  # type: ignore[arg-type]
        existing[COUPON] = coupon
    if KNOWLEDGE_PACK not in existing:
        existing[KNOWLEDGE_PACK] = welfare.create_welfare(
            workspace, OPERATOR,  # type: ignore[arg-type]
            welfare.WelfareInput(name=KNOWLEDGE_PACK, kind=WelfareKind.KNOWLEDGE_PACK,
                                 description="《护肤小白入门手册》电子版", link_url="https://example.com/skincare-101"))
    return existing[COUPON], existing[KNOWLEDGE_PACK]


def _ensure_codes(workspace: Workspace, by_suffix: dict[str, StaffAccount],
                  welfares: dict[str, Welfare]) -> list[ChannelCode]:
    have = set(ChannelCode.objects.values_list("name", flat=True))
    made = []
    today = timezone.localdate()
    for name, touchpoint, strategy, seats, welfare_name, spend in DEMO_CODES:
        if name in have:
            continue
        seat_inputs = [
            codes.SeatInput(account_id=by_suffix[s.lstrip("b")].pk, is_backup=s.startswith("b"),
                            weight=2 if s == "01" else 1)
            for s in seats if s.lstrip("b") in by_suffix
        ]
        if not seat_inputs:
            continue
        code = codes.create_code(workspace, OPERATOR, codes.CodeInput(  # type: ignore[arg-type]
            name=name, touchpoint=touchpoint, strategy=strategy, seats=seat_inputs,
            promoter_name="小美" if touchpoint == Touchpoint.PROMOTER else "",
            welcome_text=WELCOME, welfare_id=welfares[welfare_name].pk,
        ))
        if spend:
            analytics.add_spend(workspace, OPERATOR, code.pk, today - dt.timedelta(days=6), today,  # type: ignore[arg-type]
                                spend, note="演示投放")
        made.append(code)
    return made
