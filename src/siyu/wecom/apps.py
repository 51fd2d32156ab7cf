from django.apps import AppConfig


class WeComConfig(AppConfig):
    name = "siyu.wecom"
    label = "wecom"
    verbose_name = "WeCom connector"

    def ready(self) -> None:
        from siyu.wecom import tasks  # noqa: F401  (registers the inbox sweep)
