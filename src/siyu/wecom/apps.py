from siyu.core import contract


class WeComConfig(contract.SiyuApp):
    name = "siyu.wecom"
    label = "wecom"
    verbose_name = "WeCom connector"
    url_prefix = "wecom/"  # the callback endpoint and the connector's settings pages
