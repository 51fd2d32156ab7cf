"""人群 API: the brand's segments — list, create, update, a rule's live count, members in
batches (keyset cursor) for messaging and campaigns, recompute; scoped to the caller's workspace."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Router, Schema, Status

from siyu.customers.segmentation import describe
from siyu.segments import services
from siyu.segments.models import Segment
from siyu.segments.services.membership import recompute_segment
from siyu.web import MemberRequest

router = Router(tags=["segments"])
MAX_BATCH = 5000


class SegmentIn(Schema):
    name: str
    description: str = ""
    rule: dict[str, Any] = {"match": "and", "rules": []}


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    kind: str
    rule: dict[str, Any]
    member_count: int
    computed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class RuleIn(Schema):
    rule: dict[str, Any]


class CountOut(Schema):
    count: int


class MembersOut(Schema):
    customer_ids: list[int]
    next_cursor: int | None


def _ctx(request: MemberRequest) -> tuple[Any, Any]:
    return request.workspace, request.membership


@router.get("/", response=list[SegmentOut])
def segments(request: MemberRequest) -> list[Segment]:
    return services.list_segments(*_ctx(request))


@router.post("/", response={201: SegmentOut})
def create(request: MemberRequest, body: SegmentIn) -> Status[Segment]:
    """A dynamic segment from a rule; its members are computed at once."""
    segment = services.create_segment(*_ctx(request), services.SegmentInput(body.name, body.description, body.rule))
    return Status(201, segment)


@router.get("/fields")
def fields(request: MemberRequest) -> list[dict[str, Any]]:
    """The fields, operators and options a rule may use (the field registry)."""
    services.list_segments(*_ctx(request))  # the same view permission
    return describe(request.workspace)


@router.post("/count", response=CountOut)
def count(request: MemberRequest, body: RuleIn) -> dict[str, int]:
    """How many customers a rule selects now (422 with the reasons if the rule is invalid)."""
    return {"count": services.count(*_ctx(request), body.rule)}


@router.get("/{segment_id}", response=SegmentOut)
def segment(request: MemberRequest, segment_id: int) -> Segment:
    return services.get_segment(*_ctx(request), segment_id)


@router.put("/{segment_id}", response=SegmentOut)
def update(request: MemberRequest, segment_id: int, body: SegmentIn) -> Segment:
    return services.update_segment(*_ctx(request), segment_id,
                                   services.SegmentInput(body.name, body.description, body.rule))


@router.get("/{segment_id}/members", response=MembersOut)
def members(request: MemberRequest, segment_id: int, cursor: int = 0, limit: int = 1000) -> dict[str, Any]:
    """Member customer ids in ascending order after `cursor`; pass `next_cursor` back until null."""
    workspace, seat = _ctx(request)
    found = services.get_segment(workspace, seat, segment_id)
    limit = max(1, min(limit, MAX_BATCH))
    ids = services.visible_member_ids(workspace, seat, found, max(cursor, 0), limit)
    return {"customer_ids": ids, "next_cursor": ids[-1] if len(ids) == limit else None}


@router.post("/{segment_id}/recompute", response=SegmentOut)
def recompute(request: MemberRequest, segment_id: int) -> Segment:
    return recompute_segment(*_ctx(request), segment_id)
