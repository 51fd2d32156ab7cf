"""社群 services: other apps import only from here."""

from __future__ import annotations

from siyu.community.services.groups import (  # noqa: F401 - re-exported
    GroupEdit,
    GroupFilter,
    can_edit,
    get_group,
    growth_chart,
    list_groups,
    members_page,
    require_view,
    update_group,
)
from siyu.community.services.health import (  # noqa: F401 - re-exported
    FISSION_AT,
    GROWTH_AT,
    SPLIT_AT,
    Health,
    advise_splits,
    recompute_stages,
    record_days,
    refresh_health,
    stage_for,
)
from siyu.community.services.mass import GroupPick, picked_groups, plan_group_message  # noqa: F401 - re-exported
from siyu.community.services.statistics import record_statistics  # noqa: F401 - re-exported
from siyu.community.services.sync import (  # noqa: F401 - re-exported
    apply_group,
    keep_member_change,
    mark_dismissed,
    refresh_group,
    run_sync,
    running_sync,
    start_sync,
)
