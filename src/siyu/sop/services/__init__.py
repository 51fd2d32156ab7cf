"""SOP services: building SOPs and their versions (`editing`), enrolling customers and writing
their step ledger (`enrolment`), firing due steps once (`sweep`), telling staff
and ops leads about tasks (`reminders`), the working-day calendar
(`calendar`), the staff task centre (`taskcentre`) and group SOPs (`groups`: enrolment of
customer groups on the community app's triggers). Other apps import only this module."""

from __future__ import annotations

from siyu.sop.services.calendar import Hours, is_working_day, next_allowed  # noqa: F401 - re-exported
from siyu.sop.services.editing import (  # noqa: F401 - re-exported
    SopInput,
    StepInput,
    StepReport,
    create_sop,
    edit_sop,
    get_sop,
    list_sops,
    set_status,
    step_report,
)
from siyu.sop.services.enrolment import enrol, migrate_enrolments, move_event, plan_runs  # noqa: F401 - re-exported
from siyu.sop.services.groups import (  # noqa: F401 - re-exported
    GroupSopView,
    applying_sops,
    enrol_groups,
    enrolled_groups,
    groups_created,
    groups_sized,
    sops_of_group,
)
from siyu.sop.services.groups import audience as audience_of  # noqa: F401 - re-exported
from siyu.sop.services.occasions import (  # noqa: F401 - re-exported
    enrol_event,
    enrol_event_slice,
    enrol_scheduled,
    occurrence,
    start_event_enrolment,
)
from siyu.sop.services.reminders import escalate_overdue, tell_assignees  # noqa: F401 - re-exported
from siyu.sop.services.sweep import LEASE, MAX_ATTEMPTS, Swept, claim_group, resume_stale, sweep  # noqa: F401 - re-exported
from siyu.sop.services.taskcentre import (  # noqa: F401 - re-exported
    SNOOZE_HOURS,
    complete_task,
    skip_task,
    snooze_task,
    today_tasks,
)
