"""群发 services: the receive-limit budgeter every sender spends from, planning a mass message
(target → sender → batch, with who the limit refuses), sending and following it in WeCom, its
progress and results, and the brand's messaging settings.

Sub-modules: `budget` (the ledger: `preview`, `reserve`, `release`), `content` (text and
attachments in WeCom's shapes), `planning`, `sending` (confirm, send, track, remind, cancel),
`results` (progress, export, settings), `tally` (stored progress counters), `recipients` (the
customer or group ledger of a message), `senders` (群发 for other apps: `send_to_customers`,
`send_to_groups`), `notices` (应用消息 to staff: `notify_staff`). Other apps call the names
re-exported here.

Roles: the `messaging` column — view to see, edit to plan, send, remind and cancel, export to
download results.
"""

from __future__ import annotations

from siyu.messaging.services import budget  # noqa: F401 - re-exported
from siyu.messaging.services.budget import Recipients, Source  # noqa: F401 - re-exported
from siyu.messaging.services.notices import notify_staff, send_due_notices  # noqa: F401 - re-exported
from siyu.messaging.services.planning import (  # noqa: F401 - re-exported
    BATCH_SIZE,
    GroupTarget,
    MessageInput,
    PlanSummary,
    get_message,
    list_messages,
    plan_message,
    refused_page,
    refused_rows,
    replan,
    reschedule,
    summary,
    target_query,
)
from siyu.messaging.services.results import (  # noqa: F401 - re-exported
    Progress,
    export_results,
    get_settings,
    progress,
    update_settings,
)
from siyu.messaging.services.senders import send_to_customers, send_to_groups  # noqa: F401 - re-exported
from siyu.messaging.services.sending import (  # noqa: F401 - re-exported
    cancel_message,
    confirm_message,
    remind_message,
    send_due,
    send_message,
    track,
)
from siyu.messaging.services.templates import FilledTemplate, fill_template, templates_for_mass  # noqa: F401 - re-exported
