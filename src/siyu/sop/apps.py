from django.utils.translation import gettext_lazy as _

from siyu.core import contract
from siyu.core.permissions import PermissionColumn
from siyu.sop.timeline import SopTimeline


class SopConfig(contract.SiyuApp):
    """SOP — routines of steps for customers, groups and events, and the staff task centre (任务中心)."""

    name = "siyu.sop"
    label = "sop"
    verbose_name = "SOP"
    url_prefix = "content/sop/"  # a section of 内容与SOP in the menu
    permission_column = PermissionColumn("sop", _("SOP"), {
        "admin": "vexa", "ops_lead": "vexa", "copywriter": "v", "planner": "ve",
        "customer_ops": "v", "data_analyst": "vx", "merchandiser": "v",
    }, order=47)
    timeline_kinds = dict(SopTimeline.choices)
    demo_steps = (contract.DemoStep("siyu.sop.demo.seed"),)
