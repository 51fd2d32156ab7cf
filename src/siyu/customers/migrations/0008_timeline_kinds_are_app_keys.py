"""Timeline kinds become open, app-prefixed keys declared by the apps that write them."""

from django.db import migrations, models

KEYS = {
    "added": "customers.added", "deleted_staff": "customers.deleted_staff",
    "deleted_by_staff": "customers.deleted_by_staff", "transferred": "customers.transferred",
    "remarked": "customers.remarked", "field_changed": "customers.field_changed",
    "transfer_requested": "customers.transfer_requested", "churn": "customers.churn",
    "unlisted": "customers.unlisted", "group_joined": "customers.group_joined",
    "group_left": "customers.group_left",
    "welcome_sent": "channels.welcome_sent", "welcome_missed": "channels.welcome_missed",
    "welfare_issued": "channels.welfare_issued", "welfare_redeemed": "channels.welfare_redeemed",
    "tagged": "tags.tagged", "untagged": "tags.untagged",
    "stage_changed": "lifecycle.stage_changed",
}


def _rename(apps, pairs):
    entry = apps.get_model("customers", "TimelineEntry")
    for old, new in pairs:
        entry._base_manager.filter(kind=old).update(kind=new)


def forwards(apps, schema_editor):
    _rename(apps, KEYS.items())


def backwards(apps, schema_editor):
    _rename(apps, ((new, old) for old, new in KEYS.items()))


class Migration(migrations.Migration):
    dependencies = [("customers", "0007_timeline_group_kinds")]

    operations = [
        migrations.AlterField(model_name="timelineentry", name="kind", field=models.CharField(max_length=48)),
        migrations.RunPython(forwards, backwards),
    ]
