from django.utils.translation import gettext_lazy as _

from siyu.core import contract


class SegmentsConfig(contract.SiyuApp):
    name = "siyu.segments"
    label = "segments"
    verbose_name = "Segments"
    url_prefix = "customers/segments/"
    api_routers = (("/segments/", "siyu.segments.api.router"),)
    customer_actions = (
        contract.CustomerAction("export", _("Export to Excel"), "siyu.segments.views.export_checked", needs="x", order=90),
    )
    demo_steps = (contract.DemoStep("siyu.segments.demo.prepare_segments"),)
