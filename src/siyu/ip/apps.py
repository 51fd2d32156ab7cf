from django.apps import AppConfig


class IpConfig(AppConfig):
    name = "siyu.ip"
    label = "ip"
    verbose_name = "Brand IP studio"
