from django.utils.translation import gettext_lazy as _

from siyu.core import contract
from siyu.core.permissions import Module, PermissionColumn


class IpConfig(contract.SiyuApp):
    name = "siyu.ip"
    label = "ip"
    verbose_name = "Brand IP studio"
    url_prefix = "ip/"
    api_routers = (("/ip/", "siyu.ip.api.router"),)
    permission_column = PermissionColumn(Module.IP, _("Brand IP"), {
        "admin": "vexa", "ops_lead": "vexa", "copywriter": "v", "planner": "ve",
        "customer_ops": "v", "data_analyst": "v", "merchandiser": "-",
    }, order=10)
    nav = contract.NavEntry(Module.IP, "ip:home", "◎", order=10)
    demo_steps = (contract.DemoStep("siyu.ip.demo.ensure_demo_ip", after_twin=False),)
