"""客户朋友圈 services: planning, the calendar and its warnings, posting, metrics."""

from siyu.moments.services.calendar import (
    COLLIDE_HOURS,
    Calendar,
    Collision,
    collisions,
    empty_days,
    month_calendar,
    warnings_for,
)
from siyu.moments.services.common import MODULE, can_edit, require_edit, require_view
from siyu.moments.services.metrics import refresh_metrics, refresh_one
from siyu.moments.services.planning import (
    PostInput,
    check_attachments,
    delete_post,
    get_post,
    post_materials,
    save_post,
)
from siyu.moments.services.posting import claim, post_due, send_claimed, track

__all__ = [
    "COLLIDE_HOURS", "MODULE", "Calendar", "Collision", "PostInput", "can_edit", "check_attachments", "claim",
    "collisions", "delete_post", "empty_days", "get_post", "month_calendar", "post_due", "post_materials", "refresh_metrics",
    "refresh_one", "require_edit", "require_view", "save_post", "send_claimed", "track", "warnings_for",
]
