"""标签 services: tags kept in two-way sync with WeCom corp tags (`catalogue`), on customers
(`tagging`), put on by rules (`rules`), and tag completeness (`completeness`).

Roles: `Module.CUSTOMERS` (customer ops, ops lead and admin edit; most roles view).
Other apps call the names re-exported here.
"""

from __future__ import annotations

from siyu.tags.services import completeness
from siyu.tags.services.catalogue import (
    create_group,
    create_tag,
    delete_group,
    delete_tag,
    edit_group,
    edit_tag,
    live_groups,
    live_tags,
    set_required,
    sync_tags,
)
from siyu.tags.services.completeness import completeness_report, recompute_all, recompute_for
from siyu.tags.services.tagging import (
    BACKGROUND_OVER,
    TaggingOutcome,
    customer_tags,
    keep_wecom_tags,
    queue_tagging,
    record_marked_tags,
    tag_customers,
    tag_customers_outcome,
    untag_customers,
    untag_customers_outcome,
)

__all__ = [
    "BACKGROUND_OVER", "TaggingOutcome", "completeness", "completeness_report", "create_group", "create_tag", "customer_tags",
    "delete_group", "delete_tag", "edit_group", "edit_tag", "keep_wecom_tags", "live_groups", "live_tags", "queue_tagging",
    "record_marked_tags", "recompute_all", "recompute_for", "set_required", "sync_tags", "tag_customers", "tag_customers_outcome",
    "untag_customers", "untag_customers_outcome",
]
