from django.utils.translation import gettext_lazy as _

from siyu.core import contract
from siyu.core.permissions import PermissionColumn


class MessagingConfig(contract.SiyuApp):
    """群发 — mass messages to customers and groups, within one receive-limit budget."""

    name = "siyu.messaging"
    label = "messaging"
    verbose_name = "Mass messages"
    url_prefix = "content/messages/"  # a section of 内容中心 in the menu
    permission_column = PermissionColumn("messaging", _("Mass messages"), {
        "admin": "vexa", "ops_lead": "vexa", "copywriter": "v", "planner": "ve",
        "customer_ops": "v", "data_analyst": "vx", "merchandiser": "v",
    }, order=45)
