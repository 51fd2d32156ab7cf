"""群规与治理 services: other apps import only from here."""

from __future__ import annotations

from siyu.moderation.services.alerts import (  # noqa: F401 - re-exported
    DEFAULT_KEYWORDS,
    ReportInput,
    keywords_of,
    list_alerts,
    matching_keyword,
    report,
    screen_nicknames,
    set_keywords,
)
from siyu.moderation.services.blacklist import (  # noqa: F401 - re-exported
    add_entry,
    blacklist_entry_for,
    blacklist_removed,
    flag_joins,
    is_blacklisted,
    lift_entry,
    list_entries,
    list_hits,
    removal_task,
)
from siyu.moderation.services.checklist import ITEMS, ChecklistLine, checklist, tick  # noqa: F401 - re-exported
from siyu.moderation.services.common import (  # noqa: F401 - re-exported
    MODULE,
    REMOVAL_KIND,
    SOURCE,
    can_edit,
    require_edit,
    require_view,
)
from siyu.moderation.services.rules import (  # noqa: F401 - re-exported
    TEMPLATE_KEYS,
    TEMPLATES,
    get_rules,
    groups_under,
    notice_carries,
    publish_rules,
    rules_for,
    rules_of,
    rules_text,
    rules_text_for,
    save_rules,
)
from siyu.moderation.services.screening import screen_member_change  # noqa: F401 - re-exported
