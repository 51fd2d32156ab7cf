"""执行: planned → running → done | cancelled, each move once; the run sheet ticked by staff
(who and when) only while the activity runs, by the roles that edit the community column."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from siyu.activities import services
from siyu.activities.models import Activity, ActivityStatus, RunItem


def test_an_activity_moves_forward_once(town):
    activity = town.create()
    started = services.move(town.workspace, town.seat(), activity.pk, ActivityStatus.RUNNING)
    assert started.status == ActivityStatus.RUNNING and started.started_at is not None
    with pytest.raises(ValidationError):
        services.move(town.workspace, town.seat(), activity.pk, ActivityStatus.RUNNING)
    done = services.move(town.workspace, town.seat(), activity.pk, ActivityStatus.DONE)
    assert done.status == ActivityStatus.DONE and done.finished_at is not None
    for to in (ActivityStatus.RUNNING, ActivityStatus.CANCELLED, ActivityStatus.DONE, "bogus"):
        with pytest.raises(ValidationError):
            services.move(town.workspace, town.seat(), activity.pk, to)
    assert Activity.unscoped.get(pk=activity.pk).status == ActivityStatus.DONE


def test_a_planned_activity_cannot_be_finished_but_can_be_cancelled(town):
    activity = town.create()
    with pytest.raises(ValidationError):
        services.move(town.workspace, town.seat(), activity.pk, ActivityStatus.DONE)
    assert services.move(town.workspace, town.seat(), activity.pk, ActivityStatus.CANCELLED).status == "cancelled"


def test_starting_takes_the_groups_of_the_type_as_they_are_then(town):
    from siyu.activities.models import ActivityGroup
    activity = town.create(group_ids=[], group_types=["vip"])
    town.groups["knowledge"].type = "vip"
    town.groups["knowledge"].save()
    services.move(town.workspace, town.seat(), activity.pk, ActivityStatus.RUNNING)
    assert set(ActivityGroup.unscoped.filter(activity=activity).values_list("group_id", flat=True)) == {
        town.groups["vip"].pk, town.groups["knowledge"].pk}


def test_staff_tick_the_run_sheet_with_who_and_when(town):
    activity = town.create()
    item = RunItem.unscoped.filter(activity=activity).first()
    with pytest.raises(ValidationError):
        services.tick(town.workspace, town.seat("customer_ops"), activity.pk, item.pk, True)
    services.move(town.workspace, town.seat(), activity.pk, ActivityStatus.RUNNING)
    ticked = services.tick(town.workspace, town.seat("customer_ops"), activity.pk, item.pk, True)
    assert ticked.done_by == town.brand.members["customer_ops"] and ticked.done_at is not None
    again = services.tick(town.workspace, town.seat("planner"), activity.pk, item.pk, True)
    assert again.done_by == town.brand.members["customer_ops"] and again.done_at == ticked.done_at  # the first tick stays
    undone = services.tick(town.workspace, town.seat("planner"), activity.pk, item.pk, False)
    assert undone.done_at is None and undone.done_by is None


@pytest.mark.parametrize("role", ["copywriter", "data_analyst", "merchandiser"])
def test_viewers_may_not_move_or_tick(town, role):
    activity = town.create()
    item = RunItem.unscoped.filter(activity=activity).first()
    with pytest.raises(PermissionDenied):
        services.move(town.workspace, town.seat(role), activity.pk, ActivityStatus.RUNNING)
    services.move(town.workspace, town.seat(), activity.pk, ActivityStatus.RUNNING)
    with pytest.raises(PermissionDenied):
        services.tick(town.workspace, town.seat(role), activity.pk, item.pk, True)


def test_an_item_of_another_activity_is_not_found(town):
    one, other = town.create(), town.create(name="另一个")
    services.move(town.workspace, town.seat(), one.pk, ActivityStatus.RUNNING)
    theirs = RunItem.unscoped.filter(activity=other).first()
    with pytest.raises(RunItem.DoesNotExist):
        services.tick(town.workspace, town.seat(), one.pk, theirs.pk, True)


def test_a_review_is_written_once_done_and_rewritten_in_place(town):
    activity = town.create()
    with pytest.raises(ValidationError):
        services.save_review(town.workspace, town.seat(), activity.pk, worked="", did_not_work="", lessons=["x"])
    services.move(town.workspace, town.seat(), activity.pk, ActivityStatus.RUNNING)
    services.move(town.workspace, town.seat(), activity.pk, ActivityStatus.DONE)
    with pytest.raises(ValidationError) as caught:
        services.save_review(town.workspace, town.seat(), activity.pk, worked="", did_not_work="",
                             lessons=["长" * 201])
    assert "lessons" in caught.value.message_dict
    services.save_review(town.workspace, town.seat(), activity.pk, worked="好", did_not_work="差", lessons=["一", "二"])
    services.save_review(town.workspace, town.seat(), activity.pk, worked="好", did_not_work="差", lessons=["三", " "])
    reviewed = services.get_activity(town.workspace, town.seat(), activity.pk)
    assert [lesson.text for lesson in reviewed.lessons.all()] == ["三"] and reviewed.reviewed_at is not None
