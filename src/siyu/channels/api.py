"""渠道活码 API: the brand's channel codes, created and changed through the same services as the
console, and the promoter leaderboard; scoped to the caller's workspace."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Router, Schema, Status

from siyu.channels.models import ChannelAccount, ChannelCode, CodeKind, RoutingStrategy
from siyu.channels.services import codes, routing
from siyu.web import MemberRequest

router = Router(tags=["channels"])


class ShiftSchema(Schema):
    weekdays: list[int]
    start: str
    end: str


class SeatSchema(Schema):
    account_id: int
    weight: int = 1
    daily_cap: int | None = None
    is_backup: bool = False
    shifts: list[ShiftSchema] = []


class SeatOut(SeatSchema):
    userid: str
    name: str


class CodeIn(Schema):
    name: str
    touchpoint: str
    promoter_name: str = ""
    strategy: str = RoutingStrategy.ROUND_ROBIN
    skip_verify: bool = True
    seats: list[SeatSchema]
    welcome_text: str = ""
    welcome_attachments: list[dict[str, Any]] = []
    welfare_id: int | None = None
    auto_tag_ids: list[str] = []
    group_chat_id: str = ""
    group_code_id: int | None = None
    kind: str = CodeKind.CONTACT_WAY  # fixed once the code exists
    group_id: int | None = None
    expires_on: dt.date | None = None
    poster_headline: str = ""


class CodeOut(Schema):
    id: int
    name: str
    touchpoint: str
    promoter_name: str
    state: str
    strategy: str
    skip_verify: bool
    active: bool
    config_id: str
    qr_code_url: str
    routed_userids: list[str]
    routed_at: dt.datetime | None
    routing_note: str
    welcome_text: str
    welcome_attachments: list[dict[str, Any]]
    welfare_id: int | None
    auto_tag_ids: list[str]
    group_chat_id: str
    group_code_id: int | None
    kind: str
    link_url: str
    group_id: int | None
    expires_on: dt.date | None
    expired_at: dt.datetime | None
    poster_headline: str
    seats: list[SeatOut]
    created_at: dt.datetime


class CodeListItem(Schema):
    id: int
    name: str
    touchpoint: str
    promoter_name: str
    state: str
    active: bool
    routed_userids: list[str]
    adds_today: int
    adds_total: int


class PromoterOut(Schema):
    rank: int
    promoter_name: str
    code_id: int
    active: bool
    adds_total: int
    adds_week: int


def _input(body: CodeIn) -> codes.CodeInput:
    return codes.CodeInput(
        name=body.name, touchpoint=body.touchpoint, promoter_name=body.promoter_name, strategy=body.strategy,
        skip_verify=body.skip_verify, welcome_text=body.welcome_text,
        welcome_attachments=body.welcome_attachments, welfare_id=body.welfare_id,
        auto_tag_ids=body.auto_tag_ids, group_chat_id=body.group_chat_id, group_code_id=body.group_code_id, kind=body.kind, group_id=body.group_id,
        expires_on=body.expires_on, poster_headline=body.poster_headline,
        seats=[codes.SeatInput(s.account_id, s.weight, s.daily_cap, s.is_backup, [sh.dict() for sh in s.shifts])
               for s in body.seats],
    )


def _seat_out(seat: ChannelAccount) -> SeatOut:
    return SeatOut(account_id=seat.account_id, userid=seat.account.userid, name=seat.account.name,
                   weight=seat.weight, daily_cap=seat.daily_cap, is_backup=seat.is_backup,
                   shifts=[ShiftSchema(**s) for s in seat.shifts])


def _code_out(request: MemberRequest, code: ChannelCode) -> CodeOut:
    seats = routing.seats_of(request.workspace, code)
    return CodeOut(
        id=code.pk, name=code.name, touchpoint=code.touchpoint, promoter_name=code.promoter_name,
        state=code.state, strategy=code.strategy, skip_verify=code.skip_verify, active=code.active,
        config_id=code.config_id, qr_code_url=code.qr_code_url, routed_userids=list(code.routed_userids),
        routed_at=code.routed_at, routing_note=code.routing_note, welcome_text=code.welcome_text,
        welcome_attachments=list(code.welcome_attachments), welfare_id=code.welfare_id,
        auto_tag_ids=list(code.auto_tag_ids), group_chat_id=code.group_chat_id, group_code_id=code.group_code_id,
        kind=code.kind,
        link_url=code.link_url, group_id=code.group_id, expires_on=code.expires_on, expired_at=code.expired_at,
        poster_headline=code.poster_headline,
        seats=[_seat_out(s) for s in seats], created_at=code.created_at,
    )


@router.get("/codes", response=list[CodeListItem])
def list_codes(request: MemberRequest) -> list[CodeListItem]:
    rows = codes.list_codes(request.workspace, request.membership)
    return [CodeListItem(id=r.code.pk, name=r.code.name, touchpoint=r.code.touchpoint,
                         promoter_name=r.code.promoter_name, state=r.code.state, active=r.code.active,
                         routed_userids=list(r.code.routed_userids), adds_today=r.adds_today, adds_total=r.adds_total)
            for r in rows]


@router.get("/codes/{code_id}", response=CodeOut)
def get_code(request: MemberRequest, code_id: int) -> CodeOut:
    return _code_out(request, codes.get_code(request.workspace, request.membership, code_id))


@router.post("/codes", response={201: CodeOut})
def create_code(request: MemberRequest, body: CodeIn) -> Status[CodeOut]:
    code = codes.create_code(request.workspace, request.membership, _input(body))
    return Status(201, _code_out(request, code))


@router.put("/codes/{code_id}", response=CodeOut)
def update_code(request: MemberRequest, code_id: int, body: CodeIn) -> CodeOut:
    code = codes.update_code(request.workspace, request.membership, code_id, _input(body))
    return _code_out(request, code)


@router.post("/codes/{code_id}/deactivate", response=CodeOut)
def deactivate_code(request: MemberRequest, code_id: int) -> CodeOut:
    code = codes.deactivate_code(request.workspace, request.membership, code_id)
    return _code_out(request, code)


@router.get("/promoters", response=list[PromoterOut])
def promoters(request: MemberRequest) -> list[PromoterOut]:
    rows = codes.promoter_leaderboard(request.workspace, request.membership)
    return [PromoterOut(rank=r.rank, promoter_name=r.promoter_name, code_id=r.code.pk, active=r.code.active,
                        adds_total=r.adds_total, adds_week=r.adds_week) for r in rows]
