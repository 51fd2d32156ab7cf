"""The demo brand's four segments, which fill as the twin's customers arrive."""

from __future__ import annotations

from typing import Any

from siyu.core.models import Workspace
from siyu.core.services import OPERATOR
from siyu.customers.models import LifecycleStage
from siyu.segments import services as segments
from siyu.segments.models import Segment
from siyu.tags import services as tags


def prepare_segments(workspace: Workspace) -> None:
    """Each exists once; a segment follows the live tags (a restarted twin makes new ones)."""
    tag_id = dict(tags.live_tags(workspace).values_list("name", "pk"))
    if not {"门店新客", "高意向", "已购买"} <= set(tag_id):
        return
    wanted: dict[str, dict[str, Any]] = {
        "门店新客": {"match": "and", "rules": [{"field": "tags", "op": "any", "value": [tag_id["门店新客"]]}]},
        "高意向或已购买": {"match": "and", "rules": [
            {"field": "tags", "op": "any", "value": [tag_id["高意向"], tag_id["已购买"]]},
            {"field": "following", "op": "is", "value": True}]},
        "近7天新增且未流失": {"match": "and", "rules": [
            {"field": "added_at", "op": "within_days", "value": 7},
            {"field": "stage", "op": "not_in", "value": [LifecycleStage.LOST]}]},
        "沉睡或流失客户": {"match": "or", "rules": [
            {"field": "stage", "op": "in", "value": [LifecycleStage.DORMANT, LifecycleStage.LOST]}]},
    }
    existing = {s.name: s for s in Segment.objects.all()}
    for name, rule in wanted.items():
        data = segments.SegmentInput(name=name, description="演示人群", rule=rule)
        if name not in existing:
            segments.create_segment(workspace, OPERATOR, data)
        elif existing[name].rule != segments.clean_rule(workspace, rule):
            segments.update_segment(workspace, OPERATOR, existing[name].pk, data)
