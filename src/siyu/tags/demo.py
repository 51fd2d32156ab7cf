"""The demo brand's tag groups, created at WeCom (two required for tag completeness), and a
behaviour rule. Channel rules are the channels app's demo step."""

from __future__ import annotations

from siyu.core.models import Workspace
from siyu.core.services import OPERATOR
from siyu.tags import services as tags
from siyu.tags.models import RuleKind, TagRule
from siyu.tags.services import rules as tag_rules

# (group, required for completeness, tags)
DEMO_TAG_GROUPS: list[tuple[str, bool, list[str]]] = [
    ("渠道来源", False, ["门店新客", "广告引流", "包裹卡用户"]),
    ("肤质", True, ["干皮", "油皮", "混合皮", "敏感肌"]),
    ("购买意向", True, ["高意向", "观望中", "已购买"]),
]


def prepare_tags(workspace: Workspace) -> None:
    """Synced with the twin first: a restarted twin has forgotten the tags, so they are created
    again. Each group and rule exists once."""
    tags.sync_tags(workspace, OPERATOR)
    live = {g.name for g in tags.live_groups(workspace, OPERATOR)}
    for name, required, tag_names in DEMO_TAG_GROUPS:
        if name not in live:
            tags.create_group(workspace, OPERATOR, name, tag_names, required=required)
    ensure_rule(workspace, "加好友7天未互动→观望中", "观望中", RuleKind.BEHAVIOUR, {"days": 7})


def ensure_rule(workspace: Workspace, name: str, tag: str, kind: str, params: dict[str, object]) -> None:
    """A demo rule of this name on the live tag, made once (one pointing at a tag the twin
    forgot is replaced)."""
    tag_id = dict(tags.live_tags(workspace).values_list("name", "pk")).get(tag)
    if tag_id is None or TagRule.objects.filter(name=name, tag__deleted_at__isnull=True).exists():
        return
    TagRule.objects.filter(name=name).delete()
    tag_rules.create_rule(workspace, OPERATOR, tag_rules.RuleInput(
        name=name, tag_id=tag_id, kind=kind, params=params))
