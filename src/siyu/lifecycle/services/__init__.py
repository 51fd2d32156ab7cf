"""生命周期与超级用户 services: the policy (`policy`), the pure scoring rules (`scoring`), the
recompute (`recompute`) and the ops lead's figures (`kpis`). Roles: `Module.CUSTOMERS` — view
to read, edit to change the policy or ask for a recompute."""

from siyu.lifecycle.services.kpis import (
    AngelUser,
    LifecycleKpis,
    StageCount,
    TierCount,
    angel_users,
    lifecycle_kpis,
)
from siyu.lifecycle.services.policy import (
    can_edit,
    get_policy,
    policy_for,
    policy_for_editing,
    update_policy,
)
from siyu.lifecycle.services.recompute import (
    RecomputeResult,
    recompute,
    refresh_angels,
    request_recompute,
)

__all__ = [
    "AngelUser", "LifecycleKpis", "RecomputeResult", "StageCount", "TierCount", "angel_users", "can_edit",
    "get_policy", "lifecycle_kpis", "policy_for", "policy_for_editing", "recompute", "refresh_angels", "request_recompute",
    "update_policy",
]
