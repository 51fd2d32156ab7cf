from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "siyu.channels"
    label = "channels"
    verbose_name = "Channel live codes"

    def ready(self) -> None:
        from siyu.channels import subscribers, tasks  # noqa: F401  (welcome messages, rotation job)
