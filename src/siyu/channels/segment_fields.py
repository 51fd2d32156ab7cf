"""The channels app's segment field: the channel code through which a customer is still a friend."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from siyu.channels.models import ChannelCode
from siyu.core.models import Workspace
from siyu.customers.segment_fields import GROUP_RELATION, active_follows
from siyu.customers.segmentation import Base, Context, CustomerSnapshot, Op, SegmentField
from siyu.customers.segmentation import register as register_field


def _channel_options(workspace: Workspace) -> list[tuple[Any, str]]:
    return [(state, name) for state, name in
            ChannelCode.objects.for_workspace(workspace).order_by("name").values_list("state", "name")]


def _channel_q(op: str, value: Any, ctx: Context) -> Q:
    found = Q(active_follows(state__in=value))
    return found if op == Op.IN else ~found


def _channel_test(snap: CustomerSnapshot, op: str, value: Any, ctx: Context) -> bool:
    found = any(f.active and f.state in value for f in snap.follows)
    return found if op == Op.IN else not found


def register() -> None:
    register_field(SegmentField(
        key="channel", label=_("Channel (active friend)"), base=Base.TEXT, operators=(Op.IN, Op.NOT_IN),
        to_q=_channel_q, test=_channel_test, options=_channel_options, group=GROUP_RELATION,
        help=_("The channel code state of a follow relation that is still a friend.")))
