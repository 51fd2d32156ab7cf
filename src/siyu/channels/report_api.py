"""渠道数据 API under /api/channel-reports/: the ranked channel and touchpoint tables for a range
of Asia/Shanghai days, as the console's analytics page shows them. Money in fen, ratios as
decimal strings; null is "no figure" (n/a retention, no spend entered, commerce not there)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Query, Router, Schema

from siyu.channels.services import analytics
from siyu.web import MemberRequest

router = Router(tags=["channel reports"])


class RangeQuery(Schema):
    start: dt.date | None = None
    end: dt.date | None = None
    preset: str = "7"  # "7" or "30" when start and end are not given
    sort: str = analytics.DEFAULT_SORT
    order: str = "desc"


class RetentionOut(Schema):
    days: int
    cohort: int
    retained: int
    rate: Decimal | None


class FiguresOut(Schema):
    adds: int
    deleted_by_customer: int
    deleted_by_staff: int
    net: int
    retention_1: RetentionOut
    retention_7: RetentionOut
    retention_30: RetentionOut
    welfare_issued: int
    welfare_redeemed: int
    cost_fen: int | None
    cost_per_add_fen: int | None
    cost_per_retained_fen: int | None
    first_purchases: int | None  # filled by the commerce module
    revenue_fen: int | None  # filled by the commerce module


class CodeOut(FiguresOut):
    code_id: int
    name: str
    touchpoint: str
    active: bool


class TouchpointOut(FiguresOut):
    touchpoint: str
    label: str
    codes: int


class ChannelTableOut(Schema):
    start: dt.date
    end: dt.date
    sort: str
    order: str
    rows: list[CodeOut]
    totals: FiguresOut


class TouchpointTableOut(Schema):
    start: dt.date
    end: dt.date
    sort: str
    order: str
    rows: list[TouchpointOut]
    totals: FiguresOut


def _figures(f: analytics.Figures) -> dict[str, Any]:  # FiguresOut's fields, by name
    return {
        "adds": f.adds, "deleted_by_customer": f.deleted_by_customer, "deleted_by_staff": f.deleted_by_staff,
        "net": f.net,
        **{f"retention_{n}": RetentionOut(days=n, cohort=f.retention[n].cohort, retained=f.retention[n].retained,
                                          rate=f.retention[n].rate) for n in analytics.RETENTION_DAYS},
        "welfare_issued": f.welfare_issued, "welfare_redeemed": f.welfare_redeemed,
        "cost_fen": f.cost_fen, "cost_per_add_fen": f.cost_per_add_fen,
        "cost_per_retained_fen": f.cost_per_retained_fen,
        "first_purchases": f.first_purchases, "revenue_fen": f.revenue_fen,
    }


def _report(request: MemberRequest, query: RangeQuery) -> analytics.ChannelReport:
    period = analytics.parse_range(query.preset, query.start, query.end)
    return analytics.channel_report(request.workspace, request.membership,
                                    period, query.sort, query.order != "asc")


@router.get("/channels", response=ChannelTableOut)
def channels(request: MemberRequest, query: Query[RangeQuery]) -> ChannelTableOut:
    """Channel codes ranked by `sort` (net adds by default) over the range."""
    result = _report(request, query)
    return ChannelTableOut(
        start=result.range.start, end=result.range.end, sort=result.sort,
        order="desc" if result.descending else "asc",
        rows=[CodeOut(code_id=r.code_id, name=r.name, touchpoint=r.touchpoint, active=r.active, **_figures(r.figures))
              for r in result.codes],
        totals=FiguresOut(**_figures(result.totals)),
    )


@router.get("/touchpoints", response=TouchpointTableOut)
def touchpoints(request: MemberRequest, query: Query[RangeQuery]) -> TouchpointTableOut:
    """Touchpoint types (store, online ad, parcel card ...), their codes added up, ranked."""
    result = _report(request, query)
    return TouchpointTableOut(
        start=result.range.start, end=result.range.end, sort=result.sort,
        order="desc" if result.descending else "asc",
        rows=[TouchpointOut(touchpoint=r.touchpoint, label=r.touchpoint_label, codes=r.code_count,
                            **_figures(r.figures)) for r in result.touchpoints],
        totals=FiguresOut(**_figures(result.totals)),
    )
