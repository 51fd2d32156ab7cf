"""The live numbers from groups as WeCom reports them: a group made in the twin and synced over
HTTP, a customer joining and another leaving while the activity runs, the group read again as the
`change_external_chat` subscriber does; the activity counts them."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from siyu.activities import services
from siyu.activities.models import ActivityStatus
from siyu.community import services as community
from siyu.community.models import CustomerGroup


def test_joins_and_leaves_through_wecom_show_in_the_running_numbers(club):
    chat_id = club.group("护肤知识学习群", ["wm0000", "wm0001"], age_days=2)  # members from two days ago
    sync = community.start_sync(club.workspace, club.seat("admin"), enqueue=False)
    community.run_sync(club.workspace, sync.pk)
    group = CustomerGroup.objects.for_workspace(club.workspace).get(chat_id=chat_id)
    now = timezone.now()
    activity = services.create_activity(club.workspace, club.seat("planner"), services.ActivityInput(
        name="周三晚干货分享会", type="knowledge", starts_at=now - dt.timedelta(minutes=5),
        ends_at=now + dt.timedelta(hours=2), group_ids=[group.pk], targets={"joins": 1}))
    services.move(club.workspace, club.seat("planner"), activity.pk, ActivityStatus.RUNNING)

    club.join(chat_id, "wm0002")
    club.leave(chat_id, "wm0001")
    community.refresh_group(club.workspace, chat_id, left_at=timezone.now())

    numbers = services.numbers_of(club.workspace, activity, now=timezone.now() + dt.timedelta(seconds=1))
    assert (numbers.groups, numbers.joins, numbers.leaves, numbers.net) == (1, 1, 1, 0)
    assert numbers.members == CustomerGroup.objects.for_workspace(club.workspace).get(pk=group.pk).member_count == 3
    assert {r.key: r.met for r in services.review_rows(activity, numbers)}["joins"] is True
