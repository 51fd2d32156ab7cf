from django.utils.translation import gettext_lazy as _

from siyu.core import contract
from siyu.core.permissions import PermissionColumn
from siyu.points.timeline import PointsTimeline


class PointsConfig(contract.SiyuApp):
    """积分 — the points ledger (double entry) and check-ins (打卡) that earn points."""

    name = "siyu.points"
    label = "points"
    verbose_name = "Points"
    url_prefix = "community/points/"  # a section of 社群 in the menu
    permission_column = PermissionColumn("points", _("Points"), {
        "admin": "vexa", "ops_lead": "vexa", "copywriter": "v", "planner": "ve",
        "customer_ops": "ve", "data_analyst": "vx", "merchandiser": "ve",
    }, order=52)
    section_tabs = (contract.SectionTab("community", "points:home", _("Points & check-ins"), module="points", order=40),)
    timeline_kinds = dict(PointsTimeline.choices)
    segment_fields = "siyu.points.segment_fields.register"
    demo_steps = (contract.DemoStep("siyu.points.demo.seed", after_twin=False),
                  contract.DemoStep("siyu.points.demo.seed_checkins"))
