from django.utils.translation import gettext_lazy as _

from siyu.core import contract
from siyu.core.permissions import PermissionColumn


class ContentConfig(contract.SiyuApp):
    """内容中心 — materials, scripts and templates in the persona's voice."""

    name = "siyu.content"
    label = "content"
    verbose_name = "Content"
    url_prefix = "content/"
    api_routers = (("/content/", "siyu.content.api.router"),)
    # planners build templates for their 群发 (issue 13), so they edit content too
    permission_column = PermissionColumn("content", _("Content & SOP"), {
        "admin": "vexa", "ops_lead": "vexa", "copywriter": "ve", "planner": "ve",
        "customer_ops": "v", "data_analyst": "v", "merchandiser": "v",
    }, order=40)
    nav = contract.NavEntry("content", "content:home", "✎", order=40)
    demo_steps = (contract.DemoStep("siyu.content.demo.seed", after_twin=False),)
