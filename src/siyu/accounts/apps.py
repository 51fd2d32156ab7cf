from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "siyu.accounts"
    label = "accounts"
    verbose_name = "Staff accounts"

    def ready(self) -> None:
        from siyu.accounts import tasks  # noqa: F401  (registers the capacity-alert sweep)
