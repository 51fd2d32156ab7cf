from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('wecom', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='callbackrejection',
            name='suppressed',
            field=models.PositiveIntegerField(default=0),
        ),
    ]
