from siyu.core import contract


class ConsoleConfig(contract.SiyuApp):
    """The console shell: home, sign-in, brands, team, audit log, tasks, tokens, notifications."""

    name = "siyu.console"
    label = "console"
    url_prefix = ""
    # notifications (the bell, the list); the paths predate the console router, so they stay
    api_routers = (("/churn/", "siyu.console.api.router"),)
