from django.utils.translation import gettext_lazy as _

from siyu.community.timeline import CommunityTimeline
from siyu.core import contract
from siyu.core.permissions import PermissionColumn


class CommunityConfig(contract.SiyuApp):
    """社群 — customer groups (客户群): sync, types, members, health and lifecycle stages."""

    name = "siyu.community"
    label = "community"
    verbose_name = "Community"
    url_prefix = "community/"
    permission_column = PermissionColumn("community", _("Community"), {
        "admin": "vexa", "ops_lead": "vexa", "copywriter": "v", "planner": "ve",
        "customer_ops": "ve", "data_analyst": "vx", "merchandiser": "v",
    }, order=50)
    nav = contract.NavEntry("community", "community:home", "❖", order=50)
    section_tabs = (contract.SectionTab("community", "community:home", _("Customer groups"), order=10),)
    timeline_kinds = dict(CommunityTimeline.choices)
    demo_steps = (contract.DemoStep("siyu.community.demo.seed"), contract.DemoStep("siyu.community.demo.seed_weekly_sop"))
    # `sop_groups` registers the group directory the SOP engine reads (sop sits below community).
    autoload = ("subscribers", "tasks", "sop_groups")
