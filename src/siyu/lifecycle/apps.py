from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "siyu.lifecycle"
    label = "lifecycle"
    verbose_name = "Lifecycle"

    def ready(self) -> None:
        from siyu.lifecycle import inputs, subscribers, tasks  # noqa: F401  (built-in inputs, recompute, nightly job)
