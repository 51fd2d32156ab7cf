from django.utils.translation import gettext_lazy as _

from siyu.core import contract
from siyu.core.permissions import PermissionColumn


class MomentsConfig(contract.SiyuApp):
    """客户朋友圈 — customer moments: each persona's calendar of posts and what they earned."""

    name = "siyu.moments"
    label = "moments"
    verbose_name = "Customer moments"
    url_prefix = "content/moments/"  # a section of 内容中心 in the menu
    # copywriters write the persona's daily life; customer ops publish it in their WeCom client
    permission_column = PermissionColumn("moments", _("Customer moments"), {
        "admin": "vexa", "ops_lead": "vexa", "copywriter": "ve", "planner": "ve",
        "customer_ops": "v", "data_analyst": "vx", "merchandiser": "v",
    }, order=46)
    demo_steps = (contract.DemoStep("siyu.moments.demo.seed"),)
