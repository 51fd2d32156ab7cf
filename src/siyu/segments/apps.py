from siyu.core import contract


class SegmentsConfig(contract.SiyuApp):
    name = "siyu.segments"
    label = "segments"
    verbose_name = "Segments"
    url_prefix = "customers/segments/"
    api_routers = (("/segments/", "siyu.segments.api.router"),)
    demo_steps = (contract.DemoStep("siyu.segments.demo.prepare_segments"),)
