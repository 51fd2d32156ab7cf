from siyu.core import contract


class ActivitiesConfig(contract.SiyuApp):
    """社群活动 — activities planned, run and reviewed (策划 → 执行 → 复盘), and the community calendar."""

    name = "siyu.activities"
    label = "activities"
    verbose_name = "Activities"
