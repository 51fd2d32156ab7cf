from siyu.core import contract


class GroupCodesConfig(contract.SiyuApp):
    """群活码 — group live codes backed by WeCom join ways, rotating by live member counts, and group welcome templates."""

    name = "siyu.groupcodes"
    label = "groupcodes"
    verbose_name = "Groupcodes"
