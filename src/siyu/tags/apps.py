from django.utils.translation import gettext_lazy as _

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
    profile_panels = (contract.ProfilePanel("tags/_customer_panel.html", "siyu.tags.panels.customer_tags_panel", order=10),)
    customer_actions = (
        contract.CustomerAction("tag", _("Tag"), "siyu.tags.panels.bulk_tag", order=10),
        contract.CustomerAction("untag", _("Untag"), "siyu.tags.panels.bulk_untag", order=20),
    )
    demo_steps = (contract.DemoStep("siyu.tags.demo.prepare_tags"),)
