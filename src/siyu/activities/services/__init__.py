"""社群活动 services: plans (策划), running them (执行), their numbers and review (复盘), the
template library and the community calendar. Other apps import only from here."""

from __future__ import annotations

from siyu.activities.services.calendar import (  # noqa: F401 - re-exported
    SOURCES,
    CalendarEntry,
    Month,
    Source,
    activity_entries,
    event_sop_entries,
    group_sop_entries,
    month_view,
)
from siyu.activities.services.common import MODULE, can, require_edit, require_view  # noqa: F401 - re-exported
from siyu.activities.services.event_sop import create_event_sop  # noqa: F401 - re-exported
from siyu.activities.services.library import LIBRARY, ActivityTemplate, template  # noqa: F401 - re-exported
from siyu.activities.services.numbers import (  # noqa: F401 - re-exported
    GroupNumbers,
    Numbers,
    ReviewRow,
    numbers_by_group,
    numbers_of,
    review_rows,
)
from siyu.activities.services.plans import (  # noqa: F401 - re-exported
    TARGETS,
    ActivityInput,
    BudgetInput,
    CarriedLessons,
    ItemInput,
    RoleInput,
    create_activity,
    event_sops,
    format_offset,
    get_activity,
    input_of,
    last_lessons,
    list_activities,
    parse_offset,
    refresh_groups,
    resolve_groups,
    update_activity,
)
from siyu.activities.services.review import Export, export_review, save_review  # noqa: F401 - re-exported
from siyu.activities.services.running import move, tick  # noqa: F401 - re-exported
