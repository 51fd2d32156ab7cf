"""活动模板库 — starting plans for the activity types of seed 003 (4.2.5 打造社群活动: 内容分享,
签到打卡, 征集有奖, 线下活动; 4.2.4: 话题互动, 干货分享, 利益驱动). A template fills the new plan's
form; nothing is stored until the operator saves it. The texts are the brand's working language
(Chinese), as an operator would write them in a plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from siyu.activities.models import ActivityType

DAY = 24 * 60


@dataclass(frozen=True)
class TemplateItem:
    offset_minutes: int
    title: str
    role: str = ""  # the role label whose holder does it


@dataclass(frozen=True)
class ActivityTemplate:
    key: str
    type: str
    name: str
    goal: str
    hours: int  # how long the activity runs
    targets: dict[str, int]  # joins, checkins, messages, conversions
    roles: tuple[str, ...]
    run_sheet: tuple[TemplateItem, ...]
    budget: tuple[tuple[str, Decimal], ...] = field(default=())

    @property
    def budget_total(self) -> Decimal:
        return sum((amount for _item, amount in self.budget), Decimal(0))


LIBRARY: tuple[ActivityTemplate, ...] = (
    ActivityTemplate(
        "checkin-21", ActivityType.CHECKIN, "21天早起打卡挑战",
        "用连续打卡养成习惯、拉高群活跃：早起打卡、任务打卡，全勤者得奖（第4章 社群规则·打卡模式）。",
        21 * 24, {"joins": 30, "checkins": 300, "messages": 600, "conversions": 10}, ("主持", "助理", "气氛组"),
        (TemplateItem(-DAY, "发群公告与海报：规则、奖品、截止时间", "助理"),
         TemplateItem(-60, "开营提醒：@所有人 明早开始", "助理"),
         TemplateItem(0, "开营仪式：介绍规则，带头完成第一天打卡", "主持"),
         TemplateItem(30, "气氛组晒图打卡，回应新成员", "气氛组"),
         TemplateItem(DAY, "每日早报：公布打卡榜与连续天数", "助理"),
         TemplateItem(10 * DAY, "中期激励：抽奖一次，提醒补签规则", "主持"),
         TemplateItem(21 * DAY - 60, "颁奖：公布全勤名单，发放奖品", "主持")),
        (("全勤奖品", Decimal("600")), ("阶段抽奖红包", Decimal("200")))),
    ActivityTemplate(
        "knowledge-weekly", ActivityType.KNOWLEDGE, "周三晚干货分享会",
        "每周1~2个主题，邀请群员一起交流讨论（4.2.5）；用有价值的内容留住成员，引导咨询。",
        2, {"joins": 20, "checkins": 0, "messages": 200, "conversions": 5}, ("主讲", "主持", "助理"),
        (TemplateItem(-DAY, "预告：主题、讲师介绍、听课福利", "助理"),
         TemplateItem(-30, "开场提醒，收集问题", "主持"),
         TemplateItem(0, "主持开场，介绍讲师", "主持"),
         TemplateItem(5, "主讲分享（图文/语音）", "主讲"),
         TemplateItem(75, "答疑互动", "主讲"),
         TemplateItem(110, "发放资料包与福利，引导私聊咨询", "助理")),
        (("讲师酬劳", Decimal("500")), ("资料包制作", Decimal("100")))),
    ActivityTemplate(
        "topic", ActivityType.TOPIC, "话题互动夜",
        "开展话题互动、提升社群活跃度（4.2.4），让弱关系变成强关系。",
        2, {"joins": 0, "checkins": 0, "messages": 300, "conversions": 0}, ("主持", "气氛组"),
        (TemplateItem(-120, "抛出话题预告，征集观点", "主持"),
         TemplateItem(0, "开场：抛出话题与规则", "主持"),
         TemplateItem(10, "气氛组带头发言，@沉默成员", "气氛组"),
         TemplateItem(100, "总结精彩发言，送出小红包", "主持")),
        (("互动红包", Decimal("100")),)),
    ActivityTemplate(
        "contest", ActivityType.CONTEST, "晒单征集有奖",
        "通过征集活动集合成员智慧，同时配合奖品，增加成员参与感（4.2.5 征集有奖）。",
        7 * 24, {"joins": 20, "checkins": 0, "messages": 300, "conversions": 15}, ("主持", "评审", "助理"),
        (TemplateItem(-DAY, "发布征集规则、奖项与截止时间", "主持"),
         TemplateItem(0, "开始征集，置顶示例作品", "助理"),
         TemplateItem(3 * DAY, "中期提醒，展示优秀作品", "助理"),
         TemplateItem(7 * DAY - 120, "截止，评审打分", "评审"),
         TemplateItem(7 * DAY - 30, "公布获奖名单，发放奖品", "主持")),
        (("奖品", Decimal("800")),)),
    ActivityTemplate(
        "lottery", ActivityType.LOTTERY, "会员日抽奖秒杀",
        "利益驱动的限时活动：抽奖与秒杀带动转化（4.2.4 利益驱动）。",
        3, {"joins": 50, "checkins": 0, "messages": 400, "conversions": 40}, ("主持", "客服", "气氛组"),
        (TemplateItem(-2 * DAY, "预热海报与倒计时", "主持"),
         TemplateItem(-60, "开抢提醒，公布秒杀清单", "客服"),
         TemplateItem(0, "第一轮抽奖", "主持"),
         TemplateItem(30, "限时秒杀开抢", "客服"),
         TemplateItem(60, "气氛组晒单", "气氛组"),
         TemplateItem(150, "第二轮抽奖，公布中奖名单", "主持")),
        (("抽奖奖品", Decimal("1000")), ("秒杀补贴", Decimal("2000")))),
    ActivityTemplate(
        "festival", ActivityType.FESTIVAL, "节日福利活动",
        "节日氛围与仪式感：祝福、红包雨、节日专属福利（第4章 儀式感）。",
        24, {"joins": 40, "checkins": 50, "messages": 500, "conversions": 20}, ("主持", "助理", "气氛组"),
        (TemplateItem(-3 * DAY, "节日预告与福利说明", "助理"),
         TemplateItem(0, "节日祝福与开场红包", "主持"),
         TemplateItem(120, "节日话题互动", "气氛组"),
         TemplateItem(8 * 60, "节日专属福利发放", "助理"),
         TemplateItem(23 * 60, "收尾：感谢与下期预告", "主持")),
        (("红包", Decimal("500")), ("节日礼品", Decimal("1000")))),
    ActivityTemplate(
        "offline", ActivityType.OFFLINE, "线下见面会",
        "除线上活动外组织线下活动，使成员间的弱关系转变为强关系（4.2.5 线下活动）。",
        4, {"joins": 10, "checkins": 30, "messages": 200, "conversions": 10}, ("主持", "签到", "摄影"),
        (TemplateItem(-7 * DAY, "报名开启：时间、地点、名额", "主持"),
         TemplateItem(-DAY, "提醒到场，发布路线", "签到"),
         TemplateItem(0, "签到入场", "签到"),
         TemplateItem(30, "主题交流", "主持"),
         TemplateItem(180, "合影并在群里发布照片", "摄影")),
        (("场地", Decimal("1500")), ("茶歇", Decimal("500")), ("伴手礼", Decimal("800")))),
)


def template(key: str) -> ActivityTemplate | None:
    return next((t for t in LIBRARY if t.key == key), None)
