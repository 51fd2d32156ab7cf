"""The demo brand's channels: a new-friend coupon and a knowledge pack, six channel codes of
different touchpoints, routing and cost — the codes the twin's synthetic customers scan (see
`siyu.simulator.demo.DEMO_TOUCHPOINTS`) — and the rules that tag customers by channel.

Everything goes through the same services the console uses; a later start finds what exists,
re-creates the contact ways the restarted twin forgot, and changes nothing else.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from siyu.accounts.demo import demo_accounts
from siyu.channels.models import (
    ChannelCode,
    CodeGroup,
    CodeKind,
    RoutingStrategy,
    Touchpoint,
    Welfare,
    WelfareKind,
)
from siyu.channels.services import analytics, codes, groups, welfare
from siyu.core.models import Workspace
from siyu.core.services import OPERATOR
from siyu.tags.demo import ensure_rule
from siyu.tags.models import RuleKind

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
# An acquisition link (获客链接) for articles and ads: (name, touchpoint, account suffixes, welfare)
DEMO_LINK = ("公众号文章获客链接", Touchpoint.ONLINE_AD, ["02", "04"], KNOWLEDGE_PACK)
# code group -> the demo codes filed in it when the group is first made
DEMO_GROUPS: dict[str, list[str]] = {
    "线下门店": ["门店扫码", "线下快闪活动", "包裹卡"],
    "线上投放": ["信息流广告", "小程序商城", DEMO_LINK[0]],
}
# channel-code name -> the 渠道来源 tag its customers get by rule
DEMO_CHANNEL_TAGS = {"门店扫码": "门店新客", "信息流广告": "广告引流", "包裹卡": "包裹卡用户"}


def prepare_channels(workspace: Workspace) -> None:
    coupon, pack = _ensure_welfare(workspace)
    _ensure_codes(workspace, {COUPON: coupon, KNOWLEDGE_PACK: pack})
    _ensure_link(workspace, {COUPON: coupon, KNOWLEDGE_PACK: pack})
    _ensure_groups(workspace)
    codes.reconcile_contact_ways(workspace)
    states = dict(ChannelCode.objects.values_list("name", "state"))
    for code, tag in DEMO_CHANNEL_TAGS.items():
        if code in states:
            ensure_rule(workspace, f"{code}→{tag}", tag, RuleKind.CHANNEL, {"states": [states[code]]})


def _ensure_welfare(workspace: Workspace) -> tuple[Welfare, Welfare]:
    existing = {w.name: w for w in Welfare.objects.all()}
    if COUPON not in existing:
        coupon = welfare.create_welfare(workspace, OPERATOR, welfare.WelfareInput(
            name=COUPON, kind=WelfareKind.COUPON, description="满99减20新人券，小程序商城可用"))
        pool = "\n".join(f"XWZ{n:06d}" for n in range(1, 3001))
        welfare.upload_codes(workspace, OPERATOR, coupon.pk, text=pool)
        existing[COUPON] = coupon
    if KNOWLEDGE_PACK not in existing:
        existing[KNOWLEDGE_PACK] = welfare.create_welfare(
            workspace, OPERATOR,
            welfare.WelfareInput(name=KNOWLEDGE_PACK, kind=WelfareKind.KNOWLEDGE_PACK,
                                 description="《护肤小白入门手册》电子版", link_url="https://example.com/skincare-101"))
    return existing[COUPON], existing[KNOWLEDGE_PACK]


def _ensure_codes(workspace: Workspace, welfares: dict[str, Welfare]) -> None:
    have = set(ChannelCode.objects.values_list("name", flat=True))
    by_suffix = demo_accounts()
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
        code = codes.create_code(workspace, OPERATOR, codes.CodeInput(
            name=name, touchpoint=touchpoint, strategy=strategy, seats=seat_inputs,
            promoter_name="小美" if touchpoint == Touchpoint.PROMOTER else "",
            welcome_text=WELCOME, welfare_id=welfares[welfare_name].pk,
        ))
        if spend:
            analytics.add_spend(workspace, OPERATOR, code.pk, today - dt.timedelta(days=6), today,
                                spend, note="演示投放")


def _ensure_link(workspace: Workspace, welfares: dict[str, Welfare]) -> None:
    name, touchpoint, seats, welfare_name = DEMO_LINK
    if ChannelCode.objects.filter(name=name).exists():
        return
    by_suffix = demo_accounts()
    seat_inputs = [codes.SeatInput(account_id=by_suffix[s].pk) for s in seats if s in by_suffix]
    if not seat_inputs:
        return
    codes.create_code(workspace, OPERATOR, codes.CodeInput(
        name=name, touchpoint=touchpoint, kind=CodeKind.ACQUISITION_LINK, seats=seat_inputs,
        welcome_text=WELCOME, welfare_id=welfares[welfare_name].pk, poster_headline="护肤问题，随时问我",
    ))


def _ensure_groups(workspace: Workspace) -> None:
    """Make the demo groups once; their codes are filed in them only then, so a planner's later
    regrouping is kept."""
    have = set(CodeGroup.objects.values_list("name", flat=True))
    for name, members in DEMO_GROUPS.items():
        if name in have:
            continue
        group = groups.create_group(workspace, OPERATOR, name)
        ChannelCode.objects.filter(name__in=members, group__isnull=True).update(group=group)
