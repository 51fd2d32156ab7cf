"""A throwaway app that exists only to prove the app contract: its folder plus one line in
INSTALLED_APPS (see `tests/support/throwaway_settings.py`) give it a page, an API route, a
navigation entry, a permission column, a cron job and a timeline kind."""

from siyu.core import contract
from siyu.core.permissions import PermissionColumn


class ThrowawayConfig(contract.SiyuApp):
    name = "tests.support.throwaway"
    label = "throwaway"
    url_prefix = "throwaway/"
    api_routers = (("/throwaway/", "tests.support.throwaway.api.router"),)
    permission_column = PermissionColumn("throwaway", "Throwaway", {
        "admin": "vexa", "ops_lead": "v", "copywriter": "-", "planner": "-",
        "customer_ops": "-", "data_analyst": "-", "merchandiser": "-",
    }, order=95)
    nav = contract.NavEntry("throwaway", "throwaway:home", "☂", order=95)
    timeline_kinds = {"throwaway.poked": "Poked"}
