from siyu.core import contract


class ModerationConfig(contract.SiyuApp):
    """群规 — group rules, the cross-group blacklist, removal tasks, the anti-spam checklist and keyword alerts."""

    name = "siyu.moderation"
    label = "moderation"
    verbose_name = "Moderation"
