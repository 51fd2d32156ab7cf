from siyu.core import contract
from siyu.lifecycle.timeline import LifecycleTimeline


class LifecycleConfig(contract.SiyuApp):
    name = "siyu.lifecycle"
    label = "lifecycle"
    verbose_name = "Lifecycle"
    url_prefix = "customers/lifecycle/"
    api_routers = (("/lifecycle/", "siyu.lifecycle.api.router"),)
    timeline_kinds = dict(LifecycleTimeline.choices)
    segment_fields = "siyu.lifecycle.segment_fields.register"
    autoload = ("inputs", "subscribers", "tasks")  # built-in score inputs, recompute, nightly job
