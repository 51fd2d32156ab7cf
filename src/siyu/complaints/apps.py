from django.utils.translation import gettext_lazy as _

from siyu.core import contract


class ComplaintsConfig(contract.SiyuApp):
    """客诉 — complaint tickets worked on two lines (明暗两条线): a visible acknowledgement in the
    group and a private follow-up.

    Its pages live in two places: the console under `community/complaints/` (a section of 社群,
    answering to the `community` column) and the fans' complaint page under
    `/m/<brand>/fan/complaint/` (the fan session's cookie is scoped to `/m/`), so the app mounts
    its own urlconf at the root, as fission does."""

    name = "siyu.complaints"
    label = "complaints"
    verbose_name = "Complaints"
    url_prefix = ""
    urlconf = "siyu.complaints.urls"
    demo_steps = (contract.DemoStep("siyu.complaints.demo.seed"),)
    section_tabs = (contract.SectionTab("community", "complaints:home", _("Complaints"), order=60),)
    autoload = ("tasks", "fanpages")
