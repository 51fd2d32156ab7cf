"""The demo brand's custom profile fields."""

from __future__ import annotations

from siyu.core.models import Workspace
from siyu.core.services import OPERATOR
from siyu.customers.models import CustomField, FieldKind
from siyu.customers.services import profile

DEMO_FIELDS: list[tuple[str, str, str, list[str]]] = [
    ("member_level", "会员等级", FieldKind.CHOICE, ["普通会员", "银卡", "金卡"]),
    ("city", "所在城市", FieldKind.TEXT, []),
    ("total_spend", "累计消费（元）", FieldKind.NUMBER, []),
]


def prepare_fields(workspace: Workspace) -> None:
    have_fields = set(CustomField.objects.values_list("key", flat=True))
    for position, (key, label, kind, choices) in enumerate(DEMO_FIELDS):
        if key not in have_fields:
            profile.save_field(workspace, OPERATOR, None, key=key, label=label, kind=kind,
                               choices=choices, position=position)
