from django.apps import AppConfig


class TagsConfig(AppConfig):
    name = "siyu.tags"
    label = "tags"
    verbose_name = "Tags"

    def ready(self) -> None:
        from siyu.tags import subscribers, tasks  # noqa: F401  (WeCom tag events, rules, nightly sync)
