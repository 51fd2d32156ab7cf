from siyu.core import contract


class FissionConfig(contract.SiyuApp):
    """裂变 — invite-N-friends campaigns (任务宝), group fission and referrals, posters and fraud guards."""

    name = "siyu.fission"
    label = "fission"
    verbose_name = "Fission"
