"""Two-way sync of corp tags with the WeCom twin: full sync, WeCom's change_external_tag events,
and our own changes made at WeCom first."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from siyu.core import events
from siyu.core.services import OPERATOR
from siyu.tags import services
from siyu.tags.models import CustomerTag, Tag, TagGroup, TagSync
from siyu.wecom.events import CorpTagChanged
from tests.conftest import callbacks_received, wait_for, work_until
from tests.tags.conftest import befriend, drain, seed_twin_tags, twin_tags


def live(workspace, **filters):
    return {t.name: t for t in Tag.objects.for_workspace(workspace).filter(deleted_at__isnull=True, **filters)}


def test_full_sync_copies_wecom_groups_and_tags(shop):
    ids = seed_twin_tags(shop.twin, "肤质", ["油皮", "干皮"])
    run = services.sync_tags(shop.workspace, shop.ops)
    assert run.error == "" and run.groups_seen == 1 and run.tags_seen == 2 and run.created == 3
    group = TagGroup.objects.for_workspace(shop.workspace).get()
    assert group.name == "肤质" and group.wecom_group_id
    assert {n: t.wecom_tag_id for n, t in live(shop.workspace).items()} == ids


def test_full_sync_marks_what_wecom_deleted_and_keeps_required(shop):
    ids = seed_twin_tags(shop.twin, "肤质", ["油皮", "干皮"])
    seed_twin_tags(shop.twin, "意向", ["高"])
    services.sync_tags(shop.workspace, shop.ops)
    group = TagGroup.objects.for_workspace(shop.workspace).get(name="肤质")
    services.set_required(shop.workspace, shop.ops, group.pk, True)
    customer = befriend(shop, "wmC1")
    services.tag_customers(shop.workspace, shop.ops, [customer.pk], [live(shop.workspace)["干皮"].pk])
    intent = TagGroup.objects.for_workspace(shop.workspace).get(name="意向")
    shop.twin.api("externalcontact/del_corp_tag", {"tag_id": [ids["干皮"]], "group_id": [intent.wecom_group_id]})
    shop.twin.api("externalcontact/edit_corp_tag", {"id": group.wecom_group_id, "name": "肤质类型", "order": 5})

    run = services.sync_tags(shop.workspace, shop.ops)

    assert run.deleted == 3 and run.updated == 1
    group.refresh_from_db()
    assert (group.name, group.order, group.required, group.deleted_at) == ("肤质类型", 5, True, None)
    assert set(live(shop.workspace)) == {"油皮"}
    assert TagGroup.objects.for_workspace(shop.workspace).get(pk=intent.pk).deleted_at is not None
    assert not CustomerTag.objects.for_workspace(shop.workspace).exists()  # WeCom took it off too


def test_a_sync_again_changes_nothing(shop):
    seed_twin_tags(shop.twin, "肤质", ["油皮", "干皮"])
    services.sync_tags(shop.workspace, shop.ops)
    run = services.sync_tags(shop.workspace, shop.ops)
    assert (run.created, run.updated, run.deleted) == (0, 0, 0)


def test_a_failed_sync_is_recorded_with_wecom_error(shop, brand_b):
    run = services.sync_tags(brand_b.workspace, OPERATOR)
    assert run.error and run.finished_at
    assert TagSync.objects.for_workspace(brand_b.workspace).get() == run


def test_sync_needs_the_edit_right(shop):
    from django.core.exceptions import PermissionDenied

    from tests.conftest import seat

    with pytest.raises(PermissionDenied):
        services.sync_tags(shop.workspace, seat(shop.members["copywriter"], shop.workspace))


# --- our changes reach WeCom first ----------------------------------------------------------------

def test_created_group_and_tag_reach_the_twin(shop):
    group = services.create_group(shop.workspace, shop.ops, "购买意向", ["高", "中"], required=True)
    tag = services.create_tag(shop.workspace, shop.ops, group.pk, "低")
    assert twin_tags(shop.twin) == {"购买意向": {"高": live(shop.workspace)["高"].wecom_tag_id,
                                              "中": live(shop.workspace)["中"].wecom_tag_id,
                                              "低": tag.wecom_tag_id}}
    assert group.required and group.wecom_group_id


def test_rename_reorder_and_delete_reach_the_twin(shop):
    group = services.create_group(shop.workspace, shop.ops, "购买意向", ["高", "中"])
    tags = live(shop.workspace)
    services.edit_tag(shop.workspace, shop.ops, tags["高"].pk, name="很高", order=9)
    services.edit_group(shop.workspace, shop.ops, group.pk, name="意向")
    assert twin_tags(shop.twin) == {"意向": {"很高": tags["高"].wecom_tag_id, "中": tags["中"].wecom_tag_id}}
    [twin_group] = shop.twin.state()["tag_groups"]
    assert next(t for t in twin_group["tags"] if t["name"] == "很高")["order"] == 9

    services.delete_tag(shop.workspace, shop.ops, tags["中"].pk)
    assert twin_tags(shop.twin) == {"意向": {"很高": tags["高"].wecom_tag_id}}
    services.delete_group(shop.workspace, shop.ops, group.pk)
    assert twin_tags(shop.twin) == {}
    assert not live(shop.workspace)
    assert TagGroup.objects.for_workspace(shop.workspace).get().deleted_at is not None


def test_a_wecom_refusal_is_shown_and_nothing_changes_here(shop):
    group = services.create_group(shop.workspace, shop.ops, "购买意向", ["高"])
    # Someone added 中 at WeCom through another app (no callback): WeCom refuses a second 中.
    shop.twin.api("externalcontact/add_corp_tag", {"group_id": group.wecom_group_id, "tag": [{"name": "中"}]})
    with pytest.raises(ValidationError) as refused:
        services.create_tag(shop.workspace, shop.ops, group.pk, "中")
    assert "40071" in " ".join(refused.value.messages)
    assert set(live(shop.workspace)) == {"高"}


def test_a_duplicate_group_name_is_refused_before_wecom(shop):
    services.create_group(shop.workspace, shop.ops, "购买意向", ["高"])
    with pytest.raises(ValidationError):
        services.create_group(shop.workspace, shop.ops, "购买意向", ["中"])
    assert twin_tags(shop.twin) == {"购买意向": {"高": live(shop.workspace)["高"].wecom_tag_id}}


# --- WeCom's change_external_tag events -------------------------------------------------------------

def publish_change(workspace, change_type, wecom_id, tag_type, n=[0]):  # noqa: B006  (a counter)
    from django.utils import timezone

    n[0] += 1
    event = CorpTagChanged(occurred_at=timezone.now(), change_type=change_type, tag_id=wecom_id, tag_type=tag_type)
    events.publish(workspace, event, dedupe_key=f"test:tag:{n[0]}")
    drain()


def test_tag_events_are_kept_by_refetching(transactional_db, shop):
    ids = seed_twin_tags(shop.twin, "肤质", ["油皮"])
    publish_change(shop.workspace, "create", ids["油皮"], "tag")
    assert set(live(shop.workspace)) == {"油皮"}

    shop.twin.api("externalcontact/edit_corp_tag", {"id": ids["油皮"], "name": "油性"})
    publish_change(shop.workspace, "update", ids["油皮"], "tag")
    publish_change(shop.workspace, "update", ids["油皮"], "tag")  # a replay: nothing more
    assert set(live(shop.workspace)) == {"油性"}

    more = seed_twin_tags(shop.twin, "肤质", ["干皮"])
    group_id = TagGroup.objects.for_workspace(shop.workspace).get().wecom_group_id
    shop.twin.api("externalcontact/edit_corp_tag", {"id": group_id, "name": "肤质类型"})
    publish_change(shop.workspace, "update", group_id, "tag_group")
    assert set(live(shop.workspace)) == {"油性", "干皮"}
    assert TagGroup.objects.for_workspace(shop.workspace).get().name == "肤质类型"

    shop.twin.api("externalcontact/del_corp_tag", {"tag_id": [more["干皮"]]})
    publish_change(shop.workspace, "delete", more["干皮"], "tag")
    assert set(live(shop.workspace)) == {"油性"}

    shop.twin.api("externalcontact/del_corp_tag", {"group_id": [group_id]})
    publish_change(shop.workspace, "delete", group_id, "tag_group")
    assert not live(shop.workspace)
    assert TagGroup.objects.for_workspace(shop.workspace).get().deleted_at is not None


def test_a_shuffle_resyncs_the_order(transactional_db, shop):
    ids = seed_twin_tags(shop.twin, "肤质", ["油皮", "干皮"])
    services.sync_tags(shop.workspace, shop.ops)
    shop.twin.api("externalcontact/edit_corp_tag", {"id": ids["干皮"], "order": 7})
    group_id = TagGroup.objects.for_workspace(shop.workspace).get().wecom_group_id
    publish_change(shop.workspace, "shuffle", group_id, "")
    assert live(shop.workspace)["干皮"].order == 7


# --- over real HTTP: the twin's admin console fires the callback ------------------------------------

@pytest.mark.slow
def test_a_tag_made_in_the_wecom_console_arrives_by_callback(callback_twin, brand_a):
    """Over real HTTP: the twin's admin console fires change_external_tag to the live server,
    a real worker drains the inbox and our subscriber re-fetches the tag."""
    import httpx

    with httpx.Client(base_url=callback_twin) as http:
        answer = http.post("/twin/tags/client-add", json={"group_name": "渠道", "tag": [{"name": "门店"}]})
        answer.raise_for_status()
        wait_for(lambda: callbacks_received(brand_a.workspace) >= 2, timeout=20)
        work_until(lambda: live(brand_a.workspace).get("门店"))
        tag = live(brand_a.workspace)["门店"]
        assert tag.wecom_tag_id == answer.json()["tag_group"]["tag"][0]["id"]
        assert tag.group.name == "渠道"

        http.post("/twin/tags/client-edit", json={"id": tag.wecom_tag_id, "name": "线下门店"}).raise_for_status()
        work_until(lambda: live(brand_a.workspace).get("线下门店"))

        http.post("/twin/tags/client-delete", json={"tag_id": [tag.wecom_tag_id]}).raise_for_status()
        work_until(lambda: not live(brand_a.workspace))
