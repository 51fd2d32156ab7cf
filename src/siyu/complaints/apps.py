from siyu.core import contract


class ComplaintsConfig(contract.SiyuApp):
    """客诉 — complaint tickets worked on two lines (明暗两条线): a visible acknowledgement in the group and a private follow-up."""

    name = "siyu.complaints"
    label = "complaints"
    verbose_name = "Complaints"
