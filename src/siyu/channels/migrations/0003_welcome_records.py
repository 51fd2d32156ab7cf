"""The welcome-sending state moves from the follow relation (customers) to a record the channels
app owns, one per add. Each relation's current outcome is copied; customers then drops its
columns (customers 0010)."""

import django.db.models.deletion
import django.db.models.manager
from django.db import migrations, models


def copy_outcomes(apps, schema_editor):
    relation = apps.get_model("customers", "FollowRelation")
    record = apps.get_model("channels", "WelcomeRecord")
    rows = relation._base_manager.exclude(times_added=0).values_list(
        "pk", "workspace_id", "added_at", "welcome_status", "welcome_note").order_by("pk").iterator(chunk_size=2000)
    batch = []
    for pk, workspace_id, added_at, status, note in rows:
        batch.append(record(relation_id=pk, workspace_id=workspace_id, added_at=added_at, status=status, note=note))
        if len(batch) >= 2000:
            record._base_manager.bulk_create(batch, ignore_conflicts=True)
            batch = []
    record._base_manager.bulk_create(batch, ignore_conflicts=True)


def copy_back(apps, schema_editor):
    relation = apps.get_model("customers", "FollowRelation")
    record = apps.get_model("channels", "WelcomeRecord")
    for pk, added_at, status, note in record._base_manager.values_list("relation_id", "added_at", "status", "note"):
        relation._base_manager.filter(pk=pk, added_at=added_at).update(welcome_status=status, welcome_note=note)


class Migration(migrations.Migration):

    dependencies = [
        ('channels', '0002_initial'),
        ('core', '0005_notification_params'),
        ('customers', '0009_churn_package_subscriber_names'),
    ]

    operations = [
        migrations.CreateModel(
            name='WelcomeRecord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('added_at', models.DateTimeField()),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('sending', 'Sending'), ('sent', 'Sent'), ('not_configured', 'No welcome message set'), ('no_code', 'WeCom gave no welcome code'), ('missed', 'Missed')], default='pending', max_length=16)),
                ('note', models.CharField(blank=True, max_length=300)),
                ('relation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='welcome_records', to='customers.followrelation')),
                ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='core.workspace')),
            ],
            options={
                'ordering': ['-added_at', '-id'],
                'abstract': False,
                'base_manager_name': 'unscoped',
                'indexes': [models.Index(fields=['workspace', 'status', 'added_at'], name='welcome_status_added')],
                'constraints': [models.UniqueConstraint(fields=('relation', 'added_at'), name='one_welcome_per_add')],
            },
            managers=[
                ('objects', django.db.models.manager.Manager()),
                ('unscoped', django.db.models.manager.Manager()),
            ],
        ),
        migrations.RunPython(copy_outcomes, copy_back),
    ]
