"""The churn modules moved into `customers/churn/`: a subscriber's name is its import path, so
subscriber runs recorded under the old module are renamed (a retry finds its handler)."""

from django.db import migrations
from django.db.models import Value
from django.db.models.functions import Replace

OLD, NEW = "siyu.customers.churn_subscribers.", "siyu.customers.churn.subscribers."


def _rename(apps, old, new):
    run = apps.get_model("core", "SubscriberRun")
    run._base_manager.filter(subscriber__startswith=old).update(
        subscriber=Replace("subscriber", Value(old), Value(new)))


class Migration(migrations.Migration):
    dependencies = [("customers", "0008_timeline_kinds_are_app_keys"), ("core", "0005_notification_params")]

    operations = [migrations.RunPython(lambda apps, _: _rename(apps, OLD, NEW), lambda apps, _: _rename(apps, NEW, OLD))]
