from django.utils.translation import gettext_lazy as _

from siyu.core import contract


class ActivitiesConfig(contract.SiyuApp):
    """社群活动 — activities planned, run and reviewed (策划 → 执行 → 复盘), and the community calendar."""

    name = "siyu.activities"
    label = "activities"
    verbose_name = "Activities"
    url_prefix = "community/activities/"  # a section of 社群 in the menu; checked against its column
    demo_steps = (contract.DemoStep("siyu.activities.demo.seed"),)
    section_tabs = (contract.SectionTab("community", "activities:home", _("Activities"), order=50),
                    contract.SectionTab("community", "activities:calendar", _("Community calendar"), order=55))
