"""标签 API: the brand's tag groups and tags, tagging customers in bulk and tag completeness,
through the same services as the console; scoped to the caller's workspace."""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema, Status

from siyu.core.models import Membership, Workspace
from siyu.customers.services import customers_query
from siyu.tags.models import TagGroup, TagSource, TagSync
from siyu.tags.services import catalogue, completeness, rules, tagging
from siyu.web import MemberRequest

router = Router(tags=["tags"])


class TagOut(Schema):
    id: int
    name: str
    order: int
    wecom_tag_id: str
    customers: int = 0


class GroupOut(Schema):
    id: int
    name: str
    order: int
    required: bool
    wecom_group_id: str
    tags: list[TagOut]

    @staticmethod
    def resolve_tags(obj: catalogue.LiveGroup) -> list:
        return obj.live_tags


class GroupIn(Schema):
    name: str
    tags: list[str]
    order: int = 0
    required: bool = False


class TagIn(Schema):
    name: str
    order: int = 0


class RequiredIn(Schema):
    required: bool


class TaggingIn(Schema):
    customer_ids: list[int]
    tag_ids: list[int]


class TaggingOut(Schema):
    queued: int = 0  # customers queued for the background (more than `BACKGROUND_OVER`)
    changed: int
    customers: int
    local_only: list[int]
    failed: list[int]
    errors: list[str]
    summary: str


class SyncOut(Schema):
    id: int
    error: str
    groups_seen: int
    tags_seen: int
    created: int
    updated: int
    deleted: int
    started_at: dt.datetime


class StaffCompletenessOut(Schema):
    account_id: int
    userid: str
    name: str
    followers: int
    average: float


class CompletenessOut(Schema):
    required_group_ids: list[int]
    brand_average: float
    customers: int
    staff: list[StaffCompletenessOut]


class CustomerTagOut(Schema):
    tag_id: int
    name: str
    group_id: int
    group_name: str
    required_group: bool
    source: str
    created_at: dt.datetime


class RuleOut(Schema):
    id: int
    name: str
    tag_id: int
    kind: str
    params: dict
    enabled: bool
    last_run_at: dt.datetime | None
    last_run_tagged: int


class RunOut(Schema):
    tagged: int


def _seat(request: MemberRequest) -> tuple[Workspace, Membership]:
    return request.workspace, request.membership


@router.get("/groups", response=list[GroupOut])
def groups(request: MemberRequest) -> list[catalogue.LiveGroup]:
    """Live tag groups with their live tags and how many customers carry each."""
    return catalogue.live_groups(*_seat(request))


@router.post("/groups", response={201: GroupOut})
def create_group(request: MemberRequest, body: GroupIn) -> Status:
    """Created in WeCom first (`add_corp_tag`), then here; WeCom's refusal is a 422."""
    workspace, seat = _seat(request)
    group = catalogue.create_group(workspace, seat, body.name, body.tags, order=body.order, required=body.required)
    return Status(201, next(g for g in catalogue.live_groups(workspace, seat) if g.pk == group.pk))


@router.post("/groups/{group_id}/tags", response={201: TagOut})
def create_tag(request: MemberRequest, group_id: int, body: TagIn) -> Status:
    return Status(201, catalogue.create_tag(*_seat(request), group_id, body.name, order=body.order))


@router.post("/groups/{group_id}/required", response=GroupOut)
def set_required(request: MemberRequest, group_id: int, body: RequiredIn) -> TagGroup:
    workspace, seat = _seat(request)
    catalogue.set_required(workspace, seat, group_id, body.required)
    return next(g for g in catalogue.live_groups(workspace, seat) if g.pk == group_id)


@router.post("/sync", response=SyncOut)
def sync(request: MemberRequest) -> TagSync:
    """A full sync from WeCom now; `error` holds WeCom's refusal, if any."""
    return catalogue.sync_tags(*_seat(request))


def _outcome(outcome: tagging.TaggingOutcome) -> dict:
    return {"changed": outcome.changed, "customers": outcome.customers, "local_only": outcome.local_only,
            "failed": outcome.failed, "errors": outcome.errors, "summary": outcome.summary()}


def _queued(n: int) -> Status:
    return Status(202, {"queued": n, "changed": 0, "customers": 0, "local_only": [], "failed": [], "errors": [],
                        "summary": ""})


@router.post("/tag", response={200: TaggingOut, 202: TaggingOut})
def tag(request: MemberRequest, body: TaggingIn) -> dict | Status:
    """Tag customers in bulk: marked in WeCom through each active follow relation, then here.
    More than `BACKGROUND_OVER` customers are queued (202) and the caller notified when done."""
    if len(set(body.customer_ids)) > tagging.BACKGROUND_OVER:
        return _queued(tagging.queue_tagging(*_seat(request), body.customer_ids, body.tag_ids))
    return _outcome(tagging.tag_customers_outcome(*_seat(request), body.customer_ids, body.tag_ids, TagSource.BULK))


@router.post("/untag", response={200: TaggingOut, 202: TaggingOut})
def untag(request: MemberRequest, body: TaggingIn) -> dict | Status:
    if len(set(body.customer_ids)) > tagging.BACKGROUND_OVER:
        return _queued(tagging.queue_tagging(*_seat(request), body.customer_ids, body.tag_ids, untag=True))
    return _outcome(tagging.untag_customers_outcome(*_seat(request), body.customer_ids, body.tag_ids))


@router.get("/customers/{customer_id}", response=list[CustomerTagOut])
def customer_tags(request: MemberRequest, customer_id: int) -> list:
    workspace, seat = _seat(request)
    customers_query(workspace, seat).get(pk=customer_id)  # the role may view, and the customer is ours
    return tagging.customer_tags(workspace, customer_id)


@router.get("/completeness", response=CompletenessOut)
def completeness_kpi(request: MemberRequest) -> dict:
    """标签完善度: the brand's average and each staff account's, over active followers."""
    report = completeness.completeness_report(*_seat(request))
    return {
        "required_group_ids": [g.pk for g in report.required_groups], "brand_average": report.brand_average,
        "customers": report.customers,
        "staff": [{"account_id": s.account.pk, "userid": s.account.userid, "name": s.account.name,
                   "followers": s.followers, "average": s.average} for s in report.staff],
    }


@router.get("/rules", response=list[RuleOut])
def rule_list(request: MemberRequest) -> list:
    return rules.list_rules(*_seat(request))


@router.post("/rules/{rule_id}/run", response=RunOut)
def run_rule(request: MemberRequest, rule_id: int) -> dict:
    return {"tagged": rules.run_rule(*_seat(request), rule_id)}
