import django.db.models.deletion
import django.db.models.manager
from django.db import migrations, models
from django.db.models import Count, Exists, OuterRef


def seed_tallies(apps, schema_editor):
    """Start each brand's count where the old page's count was: events with every run done.
    Those keep `processed_at` empty; no run of theirs can finish again, so none is counted twice."""
    EventRecord = apps.get_model("core", "EventRecord")
    SubscriberRun = apps.get_model("core", "SubscriberRun")
    EventTally = apps.get_model("core", "EventTally")
    unfinished = SubscriberRun.objects.filter(event=OuterRef("pk")).exclude(status="done")
    counts = (EventRecord.objects.filter(~Exists(unfinished)).values("workspace_id")
              .annotate(n=Count("id")).order_by())
    EventTally.objects.bulk_create([EventTally(workspace_id=row["workspace_id"], processed=row["n"]) for row in counts])



class Migration(migrations.Migration):

    dependencies = [
        ('core', '0007_audit_module_and_changes'),
    ]

    operations = [
        migrations.AddField(
            model_name='eventrecord',
            name='processed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name='EventTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('processed', models.BigIntegerField(default=0)),
                ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='core.workspace')),
            ],
            options={
                'abstract': False,
                'base_manager_name': 'unscoped',
                'constraints': [models.UniqueConstraint(fields=('workspace',), name='one_event_tally_per_workspace')],
            },
            managers=[
                ('objects', django.db.models.manager.Manager()),
                ('unscoped', django.db.models.manager.Manager()),
            ],
        ),
        migrations.RunPython(seed_tallies, migrations.RunPython.noop),
    ]
