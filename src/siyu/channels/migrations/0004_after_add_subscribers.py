"""The channel's subscriber that tagged each add now also settles the welcomes its lane skipped
(`after_friend_added`): a subscriber's name is its import path, so runs recorded under the old
name are renamed (a retry finds its handler)."""

from django.db import migrations

PREFIX = "siyu.channels.subscribers."
RENAMED = {"tag_friend_added": "after_friend_added", "tag_friend_half_added": "after_friend_half_added"}


def _rename(apps, names):
    run = apps.get_model("core", "SubscriberRun")
    for old, new in names.items():
        run._base_manager.filter(subscriber=PREFIX + old).update(subscriber=PREFIX + new)


class Migration(migrations.Migration):
    dependencies = [("channels", "0003_welcome_records"), ("core", "0005_notification_params")]

    operations = [migrations.RunPython(lambda apps, _: _rename(apps, RENAMED),
                                       lambda apps, _: _rename(apps, {v: k for k, v in RENAMED.items()}))]
