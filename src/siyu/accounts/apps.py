from siyu.core import contract


class AccountsConfig(contract.SiyuApp):
    """Staff accounts belong to the "Accounts & channels" module, whose column and navigation
    entry the channels app declares."""

    name = "siyu.accounts"
    label = "accounts"
    verbose_name = "Staff accounts"
    url_prefix = "accounts/"
    api_routers = (("/accounts/", "siyu.accounts.api.router"),)
    demo_steps = (contract.DemoStep("siyu.accounts.demo.prepare_accounts"),)
