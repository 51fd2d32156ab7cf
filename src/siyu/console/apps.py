from siyu.core import contract


class ConsoleConfig(contract.SiyuApp):
    """The console shell: home, sign-in, brands, team, audit log, tasks, tokens, notifications."""

    name = "siyu.console"
    label = "console"
    url_prefix = ""
    # who am I, brands, team, audit log, event deliveries; and notifications, whose paths
    # (/api/churn/notifications) predate the console's router
    api_routers = (("/", "siyu.console.api.router"), ("/churn/", "siyu.console.notifications_api.router"))
