from django.utils.translation import gettext_lazy as _

from siyu.core import contract
from siyu.core.permissions import Module, PermissionColumn
from siyu.customers.timeline import TimelineKind


class CustomersConfig(contract.SiyuApp):
    """The customers hub: profiles, follow relations, the timeline, churn and transfers. Tags,
    segments and lifecycle are apps of the same "Customers" module."""

    name = "siyu.customers"
    label = "customers"
    verbose_name = "Customers"
    url_prefix = "customers/"
    api_routers = (("/customers/", "siyu.customers.api.router"), ("/churn/", "siyu.customers.churn.api.router"))
    permission_column = PermissionColumn(Module.CUSTOMERS, _("Customers"), {
        "admin": "vexa", "ops_lead": "vexa", "copywriter": "-", "planner": "v",
        "customer_ops": "ve", "data_analyst": "vx", "merchandiser": "v",
    }, order=30)
    nav = contract.NavEntry(Module.CUSTOMERS, "customers:home", "☺", order=30)
    timeline_kinds = dict(TimelineKind.choices)
    segment_fields = "siyu.customers.segment_fields.register_customer_fields"
    demo_steps = (contract.DemoStep("siyu.customers.demo.prepare_fields"),)
    # churn.*: churn alerts and the transfer status poll
    autoload = ("subscribers", "tasks", "churn.subscribers", "churn.tasks")
