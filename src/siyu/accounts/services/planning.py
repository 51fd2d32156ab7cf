"""账号规划 — "we expect N customers in M days": how many new accounts a persona needs.

Seed 001: estimate the number of customers first; past one account's limit, prepare several,
named like the persona with a numeric suffix. The plan fills the persona's existing active
accounts up to `SAFE_FILL_PERCENT` of their limit (a margin for expansions pending and for the
routing's capacity skips), then opens new accounts at the default limit, filled to the same
margin. Only the persona's own accounts count: its channel codes route to them, not to the
accounts of another persona.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from siyu.accounts.models import DEFAULT_FRIEND_LIMIT, StaffAccount
from siyu.core.models import Membership, Workspace
from siyu.core.permissions import Action, Module, require, role_of
from siyu.ip.models import Persona

SAFE_FILL_PERCENT = 95
MAX_EXPECTED = 1_000_000
MAX_DAYS = 3650


@dataclass(frozen=True)
class Plan:
    expected: int
    days: int
    persona_name: str
    existing_accounts: int  # the persona's active accounts
    free_room: int  # room left in them, up to the safe fill
    new_accounts: int
    new_names: list[str]
    room_per_new_account: int
    receiving_accounts: int  # accounts that take the customers: existing with room, plus new
    daily_adds_per_account: Decimal  # expected / days / receiving_accounts, one decimal

    @property
    def enough(self) -> bool:
        return self.new_accounts == 0


def safe_room(friend_count: int, friend_limit: int) -> int:
    """Friends an account may still add before it reaches the safe fill."""
    return max(0, friend_limit * SAFE_FILL_PERCENT // 100 - friend_count)


def next_names(persona_name: str, taken: Iterable[str], count: int) -> list[str]:
    """`count` names continuing the persona's numbering: 小完子05, 小完子06 after 小完子01–04.
    Two digits at least; numbering continues after the highest suffix in use."""
    pattern = re.compile(re.escape(persona_name) + r"(\d+)")
    used = [int(m.group(1)) for name in taken if (m := pattern.fullmatch(name.strip()))]
    start = max(used, default=0) + 1
    return [f"{persona_name}{n:02d}" for n in range(start, start + count)]


def plan_capacity(
    expected: int,
    days: int,
    persona_name: str,
    accounts: Iterable[tuple[int, int]],
    taken_names: Iterable[str],
    new_limit: int = DEFAULT_FRIEND_LIMIT,
) -> Plan:
    """The plan itself, a pure function: `accounts` are the persona's active accounts as
    (friend_count, friend_limit); `taken_names` every account name of the brand."""
    rooms = [safe_room(count, limit) for count, limit in accounts]
    free = sum(rooms)
    per_new = safe_room(0, new_limit)
    missing = max(0, expected - free)
    new_accounts = -(-missing // per_new) if missing else 0
    # Every account with room takes a share of the flow (the routing spreads scans among
    # them), so the daily rate per account is the flow over all of them.
    receiving = sum(1 for room in rooms if room > 0) + new_accounts
    per_account = (Decimal(expected) / days / receiving if receiving else Decimal(0))
    return Plan(
        expected=expected, days=days, persona_name=persona_name,
        existing_accounts=len(rooms), free_room=free,
        new_accounts=new_accounts, new_names=next_names(persona_name, taken_names, new_accounts),
        room_per_new_account=per_new, receiving_accounts=receiving,
        daily_adds_per_account=per_account.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
    )


def plan_accounts(
    workspace: Workspace, membership: Membership | None, expected: int | None, days: int | None,
    persona_id: int | None,
) -> Plan:
    """Validate the planner's question and answer it for one persona of this brand."""
    require(role_of(membership), Module.CHANNELS, Action.VIEW)
    errors: dict[str, list[str]] = {}
    if expected is None or expected < 1:
        errors["expected"] = [_("Expect at least one customer.")]
    elif expected > MAX_EXPECTED:
        errors["expected"] = [_("Plan at most %(max)s customers at once.") % {"max": f"{MAX_EXPECTED:,}"}]
    if days is None or days < 1:
        errors["days"] = [_("Give a period of at least one day.")]
    elif days > MAX_DAYS:
        errors["days"] = [_("Plan at most %(max)s days ahead.") % {"max": MAX_DAYS}]
    persona = (Persona.objects.for_workspace(workspace).filter(pk=persona_id).first()
               if persona_id is not None else None)
    if persona is None:
        errors["persona"] = [_("Choose a persona of this brand.")]
    if errors:
        raise ValidationError(errors)
    assert persona is not None and expected is not None and days is not None
    accounts = StaffAccount.objects.for_workspace(workspace)
    own = accounts.filter(persona=persona, active=True).values_list("friend_count", "friend_limit")
    return plan_capacity(expected, days, persona.name, list(own), accounts.values_list("name", flat=True))
