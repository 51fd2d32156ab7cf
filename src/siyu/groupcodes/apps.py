from django.utils.translation import gettext_lazy as _

from siyu.core import contract


class GroupCodesConfig(contract.SiyuApp):
    """群活码 — group live codes backed by WeCom join ways, rotating by live member counts, and group
    welcome templates.

    Roles are the `community` module's (declared by the community app); the pages sit under
    社群 (`/community/codes/`), so the menu marks that section."""

    name = "siyu.groupcodes"
    label = "groupcodes"
    verbose_name = "Groupcodes"
    url_prefix = "community/codes/"
    demo_steps = (contract.DemoStep("siyu.groupcodes.demo.seed"),)
    section_tabs = (contract.SectionTab("community", "groupcodes:home", _("Group live codes"), order=20),)
    group_code_directory = "siyu.groupcodes.directory.directory"
    subscriber_labels = {
        "siyu.groupcodes.subscribers.rotate_on_join": _("Rotate a group code's groups on a join"),
        "siyu.groupcodes.subscribers.link_new_group": _("Link a new group to the group code waiting for it"),
    }
