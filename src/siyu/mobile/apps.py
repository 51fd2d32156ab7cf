from siyu.core import contract


class MobileConfig(contract.SiyuApp):
    """手机端 — the pages people open on their phones: the staff chat sidebar (聊天工具栏) inside
    WeCom, and fans' pages inside WeChat. Neither uses the console's sign-in: staff arrive through
    WeCom OAuth, fans through the service account's web OAuth, each with a session of its own."""

    name = "siyu.mobile"
    label = "mobile"
    verbose_name = "Phones"
    url_prefix = "m/"
    demo_steps = (contract.DemoStep("siyu.mobile.demo.seed"),)
