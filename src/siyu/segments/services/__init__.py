"""人群 services: segments of the brand's customers — rules checked against the field registry,
live counts, stored membership and batched iteration for messaging and campaigns.

Sub-modules: `definitions` (segments and their evaluation), `rules` (the rule language), `membership` (incremental upkeep and full recompute),
`static` (uploaded lists), `export` (Excel export). The names other apps call are re-exported
here: `count`, `members_query`, `iter_member_ids`, `recompute`, `export_segment`,
`export_customers`.

Roles: `Module.CUSTOMERS` — view to see segments and count, edit to save or recompute them,
export to download members.

The package's public face: the logic lives in its modules."""

from __future__ import annotations

from siyu.segments.services.definitions import (  # noqa: F401 - re-exported
    DESCRIPTION_MAX_CHARS,
    NAME_MAX_CHARS,
    MemberPage,
    SegmentInput,
    can_edit,
    can_export,
    context,
    count,
    create_segment,
    delete_segment,
    get_segment,
    list_segments,
    member_page,
    members_query,
    require_edit,
    rule_customers,
    snapshots,
    update_segment,
    visible_member_ids,
)
from siyu.segments.services.export import export_customers, export_segment  # noqa: F401 - re-exported
from siyu.segments.services.membership import (  # noqa: F401 - re-exported
    BATCH_SIZE,
    iter_member_ids,
    member_ids_after,
    recompute,
    refresh_customers,
    segment_members,
)
from siyu.segments.services.rules import EVERYONE, clean_rule, rule_q  # noqa: F401 - re-exported
