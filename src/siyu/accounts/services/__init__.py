"""企微号 services: staff accounts synced from WeCom, their friend counters, capacity and
forecasts, the planning tool and the profile-kit check.

Roles: `Module.CHANNELS` (账号与渠道) — planner, ops lead and admin edit; most roles view; the
merchandiser nothing. Sub-domains live in `capacity` (fill, forecast, alerts), `planning`
(how many accounts) and `kit` (人设包装 check); the names callers need are re-exported here.

The package's public face: the logic lives in its modules."""

from __future__ import annotations

from siyu.accounts.services.capacity import (  # noqa: F401 - re-exported
    ALERT_LEVELS,
    FORECAST_DAYS,
    AccountCapacity,
    capacity_of,
    raise_alert_if_crossed,
    recheck_alerts,
    record_wecom_full,
    reset_alert_level,
)
from siyu.accounts.services.fill import FILL_ACCOUNTS, FILL_DAYS, FillHistory, fill_history  # noqa: F401 - re-exported
from siyu.accounts.services.kit import (  # noqa: F401 - re-exported
    AVATAR_MATCH_MAX_DISTANCE,
    KitIssue,
    KitReport,
    avatar_hash,
    hash_distance,
    kit_check,
)
from siyu.accounts.services.planning import (  # noqa: F401 - re-exported
    SAFE_FILL_PERCENT,
    Plan,
    next_names,
    plan_accounts,
    plan_capacity,
)
from siyu.accounts.services.roster import (  # noqa: F401 - re-exported
    ACTIVE_STATUS,
    COVER_MAX,
    GREETING_MAX,
    GROUP_NAME_MAX,
    MIN_FRIEND_LIMIT,
    SIGNATURE_MAX,
    STAFF_PAGE_SIZE,
    AccountGroup,
    AccountInput,
    AccountSaved,
    AccountsOverview,
    SyncResult,
    account_for_editing,
    account_for_userid,
    accounts_overview,
    can_edit,
    get_account,
    kit_avatar_file,
    list_accounts,
    operator_options,
    persona_options,
    record_follow_change,
    save_account,
    sync_accounts,
)

