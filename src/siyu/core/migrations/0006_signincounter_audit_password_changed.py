import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0005_notification_params'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='workspace',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.CreateModel(
            name='SignInCounter',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=64, unique=True)),
                ('attempts', models.PositiveIntegerField(default=0)),
                ('expires_at', models.DateTimeField(db_index=True)),
            ],
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(choices=[('login', 'Signed in'), ('login_failed', 'Failed sign-in'), ('login_locked', 'Sign-in locked'), ('workspace_created', 'Brand created'), ('member_invited', 'Member invited'), ('member_joined', 'Member joined'), ('role_changed', 'Role changed'), ('member_removed', 'Member removed'), ('token_created', 'API token created'), ('token_deleted', 'API token deleted'), ('export', 'Export'), ('deletion', 'Deletion'), ('task_retried', 'Task retried'), ('settings_changed', 'Settings changed'), ('transfer_requested', 'Customer transfer requested'), ('password_changed', 'Password changed')], max_length=30),
        ),
    ]
