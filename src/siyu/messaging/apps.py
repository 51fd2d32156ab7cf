from django.utils.translation import gettext_lazy as _

from siyu.core import contract
from siyu.core.permissions import PermissionColumn


class MessagingConfig(contract.SiyuApp):
    """群发 — mass messages to customers and groups, within one receive-limit budget."""

    name = "siyu.messaging"
    label = "messaging"
    verbose_name = "Mass messages"
    url_prefix = "content/messages/"  # a section of 内容中心 in the menu
    api_routers = (("/messaging/", "siyu.messaging.api.router"),)
    permission_column = PermissionColumn("messaging", _("Mass messages"), {
        "admin": "vexa", "ops_lead": "vexa", "copywriter": "v", "planner": "ve",
        "customer_ops": "v", "data_analyst": "vx", "merchandiser": "v",
    }, order=45)
    customer_actions = (contract.CustomerAction("mass_message", _("Mass message"),
                                                "siyu.messaging.views.start_for_customers", needs="e",
                                                order=50, module="messaging"),)
    demo_steps = (contract.DemoStep("siyu.messaging.demo.seed"),)
