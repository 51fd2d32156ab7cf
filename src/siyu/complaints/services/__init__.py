"""客诉 services: other apps import only from here."""

from __future__ import annotations

from siyu.complaints.services.analytics import (  # noqa: F401 - re-exported
    ComplaintStats,
    Repeat,
    complaint_stats,
    median,
    percentile,
)
from siyu.complaints.services.tickets import (  # noqa: F401 - re-exported
    ACK_MINUTES,
    RESOLVE_HOURS,
    SOURCE,
    VIP_ACK_MINUTES,
    VIP_RESOLVE_HOURS,
    ComplaintInput,
    acknowledge,
    can_edit,
    close,
    get_complaint,
    is_vip,
    list_complaints,
    open_complaint,
    require_view,
    resolve,
    script_for,
    sync_from_tasks,
    tasks_of,
)
