from siyu.core import contract


class CoreConfig(contract.SiyuApp):
    name = "siyu.core"
    label = "core"
    verbose_name = "Siyu core"
    autoload = ("schedule",)  # the platform's cron jobs (sweep, pruning)
