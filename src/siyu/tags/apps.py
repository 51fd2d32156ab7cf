from siyu.core import contract
from siyu.tags.timeline import TagTimeline


class TagsConfig(contract.SiyuApp):
    name = "siyu.tags"
    label = "tags"
    verbose_name = "Tags"
    url_prefix = "customers/tags/"
    api_routers = (("/tags/", "siyu.tags.api.router"),)
    timeline_kinds = dict(TagTimeline.choices)
    segment_fields = "siyu.tags.segment_fields.register"
    demo_steps = (contract.DemoStep("siyu.tags.demo.prepare_tags"),)
