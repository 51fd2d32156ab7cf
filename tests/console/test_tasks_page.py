"""The Tasks page names events and subscribers as people say them; the import path is only a
tooltip. Every subscriber and event the running code registers has such a name."""

from __future__ import annotations

import re

from siyu.console.task_labels import event_labels, subscriber_labels
from siyu.core import events
from siyu.core.models import RunStatus, SubscriberRun
from siyu.wecom.events import FriendAdded


def test_every_registered_subscriber_has_a_readable_name():
    # Other test modules register subscribers of their own (`tests.…`), depending on what ran first.
    registered = {s.name for subs in events._subscribers.values() for s in subs if not s.name.startswith("tests.")}
    assert registered and not registered - set(subscriber_labels()), registered - set(subscriber_labels())


def test_every_event_has_a_readable_name():
    assert not set(events.DomainEvent.registry) - set(event_labels()) - {n for n in events.DomainEvent.registry
                                                                 if n.startswith("tests.")}


def test_runs_show_names_with_the_path_in_a_tooltip(brand_a, login, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    events.publish(brand_a.workspace, FriendAdded(occurred_at=timezone.now() - dt.timedelta(seconds=1),
                                                  staff_userid="xw01", external_userid="wmX"))
    SubscriberRun.objects.for_workspace(brand_a.workspace).update(status=RunStatus.FAILED, last_error="boom")
    html = login(brand_a.admin).get("/tasks/?status=failed").content.decode()
    table = html[html.index('data-testid="runs"'):]
    assert '<span title="siyu.channels.subscribers.welcome_friend_added" data-testid="run-subscriber">欢迎语发送</span>' in table
    assert '<span title="wecom.friend_added" data-testid="run-event">客户添加了员工</span>' in table
    assert not re.search(r">\s*siyu\.[a-z_.]+\s*<", table)  # no path as visible text
