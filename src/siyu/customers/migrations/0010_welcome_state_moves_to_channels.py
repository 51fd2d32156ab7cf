"""The welcome-sending state now lives in `channels.WelcomeRecord` (copied there by channels 0003)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0009_churn_package_subscriber_names"),
        ("channels", "0003_welcome_records"),
    ]

    operations = [
        migrations.RemoveField(model_name="followrelation", name="welcome_note"),
        migrations.RemoveField(model_name="followrelation", name="welcome_status"),
    ]
