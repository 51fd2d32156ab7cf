"""Attempts on step runs (an unexpected 群发 error fails them after five), and tasks' SLA breach
time with the once-only escalation mark; tasks made before get their breach time here."""

import datetime as dt

from django.db import migrations, models


def fill_breach(apps, schema_editor):
    StaffTask = apps.get_model("sop", "StaffTask")
    tasks = list(StaffTask.objects.filter(breach_at=None).only("due_at", "sla_hours"))
    for task in tasks:
        task.breach_at = task.due_at + dt.timedelta(hours=task.sla_hours)
    StaffTask.objects.bulk_update(tasks, ["breach_at"], batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ('sop', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='stafftask',
            name='breach_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='stafftask',
            name='escalated_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='steprun',
            name='attempts',
            field=models.PositiveSmallIntegerField(default=0, db_default=0),
        ),
        migrations.AlterField(
            model_name='steprun',
            name='reason',
            field=models.CharField(blank=True, max_length=120),
        ),
        migrations.AddIndex(
            model_name='stafftask',
            index=models.Index(condition=models.Q(('escalated_at__isnull', True), ('state__in', ['open', 'snoozed'])), fields=['breach_at'], name='staff_task_to_escalate'),
        ),
        migrations.RunPython(fill_breach, migrations.RunPython.noop),
    ]
