from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "siyu.customers"
    label = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        # subscribers: WeCom contact events; churn_*: churn alerts and the transfer status poll;
        # tasks: the full sync and its stale-sync job
        from siyu.customers import churn_subscribers, churn_tasks, subscribers, tasks  # noqa: F401
