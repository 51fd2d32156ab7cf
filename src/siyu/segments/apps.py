from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "siyu.segments"
    label = "segments"
    verbose_name = "Segments"

    def ready(self) -> None:
        from siyu.segments import subscribers, tasks  # noqa: F401  (incremental membership, nightly recompute)
        from siyu.segments.fields import register_builtin_fields

        register_builtin_fields()
