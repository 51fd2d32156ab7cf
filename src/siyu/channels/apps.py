from django.utils.translation import gettext_lazy as _

from siyu.channels.timeline import ChannelTimeline
from siyu.core import contract
from siyu.core.permissions import Module, PermissionColumn


class ChannelsConfig(contract.SiyuApp):
    name = "siyu.channels"
    label = "channels"
    verbose_name = "Channel live codes"
    url_prefix = "channels/"
    api_routers = (
        ("/channels/", "siyu.channels.api.router"),
        ("/channel-reports/", "siyu.channels.report_api.router"),
    )
    permission_column = PermissionColumn(Module.CHANNELS, _("Accounts & channels"), {
        "admin": "vexa", "ops_lead": "vexa", "copywriter": "v", "planner": "ve",
        "customer_ops": "v", "data_analyst": "vx", "merchandiser": "-",
    }, order=20)
    nav = contract.NavEntry(Module.CHANNELS, "channels:home", "⌁", order=20)
    timeline_kinds = dict(ChannelTimeline.choices)
    segment_fields = "siyu.channels.segment_fields.register"
    channel_directory = "siyu.channels.directory.directory"
    demo_steps = (contract.DemoStep("siyu.channels.demo.prepare_channels"),)
