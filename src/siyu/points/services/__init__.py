"""积分 services: the ledger (grants, spends, expiry, reconcile), check-ins and rewards."""

from siyu.points.services.checkins import (
    CalendarDay,
    CheckedIn,
    CheckinMonth,
    PlanInput,
    Tier,
    bonus_for,
    cards_left,
    check_in,
    make_up,
    month_of,
    parse_tiers,
    plan_of,
    save_plan,
    tiers_of,
    tiers_text,
)
from siyu.points.services.common import (
    MODULE,
    NotEnoughPoints,
    OutOfStock,
    PointsError,
    can_adjust,
    can_edit,
    require_adjust,
    require_edit,
    require_view,
)
from siyu.points.services.ledger import (
    Granted,
    Reconciliation,
    balance_of,
    entries_of,
    expire_due,
    expiry_for,
    grant,
    lock_wallet,
    new_ref,
    policy_of,
    reconcile,
    save_policy,
    spend,
)
from siyu.points.services.rewards import (
    RewardInput,
    adjust,
    mark_shipped,
    redeem,
    redemptions_of,
    rewards_on_offer,
    save_reward,
)

__all__ = [
    "MODULE", "CalendarDay", "CheckedIn", "CheckinMonth", "Granted", "NotEnoughPoints", "OutOfStock", "PlanInput",
    "PointsError", "Reconciliation", "RewardInput", "Tier", "adjust", "balance_of", "bonus_for", "can_adjust",
    "can_edit", "cards_left", "check_in", "entries_of", "expire_due", "expiry_for", "grant", "lock_wallet",
    "make_up", "mark_shipped", "month_of", "new_ref", "parse_tiers", "plan_of", "policy_of", "reconcile", "redeem",
    "redemptions_of", "require_adjust", "require_edit", "require_view", "rewards_on_offer", "save_plan", "save_policy",
    "save_reward", "spend", "tiers_of", "tiers_text",
]
