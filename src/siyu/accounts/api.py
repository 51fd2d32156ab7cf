"""企微号 API: the brand's staff accounts with capacity and forecast, the planning tool and the
profile-kit check, scoped to the caller's workspace."""

from __future__ import annotations

from decimal import Decimal

from ninja import Router, Schema

from siyu.accounts import services
from siyu.web import MemberRequest

router = Router(tags=["accounts"])


class AccountOut(Schema):
    id: int
    userid: str
    name: str
    position: str
    active: bool
    persona_id: int | None
    grouping: str
    group_name: str
    friend_count: int
    friend_limit: int
    fill_percent: int
    room: int
    net_adds_7d: int
    daily_net: Decimal
    days_until_full: int | None  # null: not filling; 0: full
    alert: int  # 0, 80 or 95
    synced_at: str | None


class PlanOut(Schema):
    expected: int
    days: int
    persona: str
    existing_accounts: int
    free_room: int
    new_accounts: int
    new_names: list[str]
    room_per_new_account: int
    receiving_accounts: int
    daily_adds_per_account: Decimal


class KitIssueOut(Schema):
    part: str
    reason: str


class KitReportOut(Schema):
    id: int
    userid: str
    name: str
    persona_id: int | None
    ok: bool
    issues: list[KitIssueOut]


def _account_out(row: services.AccountCapacity) -> AccountOut:
    a = row.account
    return AccountOut(
        id=a.pk, userid=a.userid, name=a.name, position=a.position, active=a.active, persona_id=a.persona_id,
        grouping=a.grouping, group_name=a.group_name, friend_count=a.friend_count, friend_limit=a.friend_limit,
        fill_percent=row.fill_percent, room=row.room, net_adds_7d=row.net_adds, daily_net=row.daily_net,
        days_until_full=row.days_until_full, alert=row.alert,
        synced_at=a.synced_at.isoformat() if a.synced_at else None,
    )


@router.get("/", response=list[AccountOut])
def accounts(request: MemberRequest) -> list[AccountOut]:
    """Every account with its fill, the last 7 days' net adds and the days until full."""
    rows = services.list_accounts(request.workspace, request.membership)
    return [_account_out(r) for r in rows]


@router.get("/plan", response=PlanOut)
def plan(request: MemberRequest, expected: int | None = None, days: int | None = None,
         persona_id: int | None = None) -> PlanOut:
    """"We expect `expected` customers in `days` days for this persona": the accounts needed."""
    p = services.plan_accounts(request.workspace, request.membership, expected, days, persona_id)
    return PlanOut(
        expected=p.expected, days=p.days, persona=p.persona_name, existing_accounts=p.existing_accounts,
        free_room=p.free_room, new_accounts=p.new_accounts, new_names=p.new_names,
        room_per_new_account=p.room_per_new_account, receiving_accounts=p.receiving_accounts,
        daily_adds_per_account=p.daily_adds_per_account,
    )


@router.get("/kit-check", response=list[KitReportOut])
def kit_check(request: MemberRequest) -> list[KitReportOut]:
    """Each active account's mismatches with its persona (人设包装)."""
    reports = services.kit_check(request.workspace, request.membership)
    return [KitReportOut(id=r.account.pk, userid=r.account.userid, name=r.account.name,
                         persona_id=r.account.persona_id, ok=r.ok,
                         issues=[KitIssueOut(part=i.part, reason=i.reason) for i in r.issues])
            for r in reports]
