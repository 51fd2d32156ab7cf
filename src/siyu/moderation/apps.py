from django.utils.translation import gettext_lazy as _

from siyu.core import contract


class ModerationConfig(contract.SiyuApp):
    """群规 — group rules, the cross-group blacklist, removal tasks, the anti-spam checklist and
    keyword alerts.

    A section of 社群 in the menu (`community/moderation/`), answering to the `community` column."""

    name = "siyu.moderation"
    label = "moderation"
    verbose_name = "Moderation"
    url_prefix = "community/moderation/"
    demo_steps = (contract.DemoStep("siyu.moderation.demo.seed"),)
    section_tabs = (contract.SectionTab("community", "moderation:rules", _("Rules & moderation"), order=30),)
    subscriber_labels = {
        "siyu.moderation.subscribers.screen_member_changes": _("Screen group joins and removals (blacklist, keywords)"),
    }
