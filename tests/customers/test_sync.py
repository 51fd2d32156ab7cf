"""Full sync from WeCom (全量同步) against the real twin: paging every staff account, upserts,
counters kept right, resuming after a WeCom failure, one running sync per brand, the page."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from siyu.accounts.models import StaffAccount
from siyu.core.models import EventRecord
from siyu.customers import services
from siyu.customers.models import Customer, CustomerSync, FollowRelation, SyncStatus, TimelineEntry
from siyu.customers.services import sync
from tests.conftest import seat
from tests.customers.conftest import at, connect, drain
from tests.simulator.twin import running_twin, twin_config


def populate(twin, n: int, *, both_every: int = 10) -> None:
    """n customers, alternating between the two staff; every `both_every`-th follows both."""
    for i in range(n):
        staff = "xiaowanzi01" if i % 2 == 0 else "xiaowanzi02"
        twin.admin.post("/twin/customers/add", json={
            "name": f"客户{i:03}", "gender": "female" if i % 3 else "male", "staff_userid": staff,
            "external_userid": f"wmSYNC{i:04}", "state": "chstore" if i % 4 else "chad",
        }).raise_for_status()
        if i % both_every == 0:
            twin.admin.post("/twin/customers/add", json={
                "name": f"客户{i:03}", "staff_userid": "xiaowanzi02" if staff == "xiaowanzi01" else "xiaowanzi01",
                "external_userid": f"wmSYNC{i:04}",
            }).raise_for_status()


def counts(workspace) -> dict[str, int]:
    return dict(StaffAccount.objects.for_workspace(workspace).values_list("userid", "friend_count"))


@pytest.fixture
def limited_twin():
    """A twin that blocks an API after 2 calls a minute (WeCom's 45009), to break a sync mid-way."""
    with running_twin(twin_config(rate_limit_per_minute=2, rate_limit_block_seconds=60)) as running:
        running.add_staff("xiaowanzi01", name="小完子01")
        running.add_staff("xiaowanzi02", name="小完子02")
        yield running


def test_a_full_sync_pages_every_staff_and_upserts_customers_relations_and_counts_once(brand_a, twin):
    connect(brand_a.workspace, twin)
    populate(twin, 120)
    ws, admin = brand_a.workspace, seat(brand_a.admin, brand_a.workspace)
    # One add the callback already brought: the sync must not count it again.
    services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmSYNC0002", state="chstore", at=at(5))
    assert counts(ws)["xiaowanzi01"] == 1

    started = sync.start_sync(ws, admin, enqueue=False)
    done = sync.run_sync(ws, started.pk)

    assert done.status == SyncStatus.DONE and done.error == ""
    relations = 120 + 12
    assert (done.relations_seen, done.pages) == (relations, 2)  # 132 rows, 100 a page
    assert Customer.objects.for_workspace(ws).count() == 120
    assert FollowRelation.objects.for_workspace(ws).count() == relations
    first = Customer.objects.for_workspace(ws).get(external_userid="wmSYNC0004")
    assert (first.name, first.gender, first.profile_synced_at is not None) == ("客户004", 2, True)
    assert first.first_added_at is not None
    both = Customer.objects.for_workspace(ws).get(external_userid="wmSYNC0010")
    assert FollowRelation.objects.for_workspace(ws).filter(customer=both).count() == 2
    expected = {u: len(twin.api("externalcontact/list", userid=u)["external_userid"])
                for u in ("xiaowanzi01", "xiaowanzi02")}
    assert counts(ws) == expected
    # The sync told segments about the customers it changed, in batches.
    assert EventRecord.objects.for_workspace(ws).filter(name="customers.changed").exists()
    # New follows got their ADDED entry once; the one the callback brought kept its own.
    assert TimelineEntry.objects.for_workspace(ws).filter(kind="customers.added").count() == relations

    again = sync.run_sync(ws, sync.start_sync(ws, admin, enqueue=False).pk)
    assert again.status == SyncStatus.DONE
    assert counts(ws) == expected
    assert TimelineEntry.objects.for_workspace(ws).filter(kind="customers.added").count() == relations


def test_a_sync_keeps_wecom_remarks_and_a_readd_it_missed(brand_a, twin):
    connect(brand_a.workspace, twin)
    populate(twin, 3)
    ws, admin = brand_a.workspace, seat(brand_a.admin, brand_a.workspace)
    token = twin.token()
    twin.call("externalcontact/remark", token, {"userid": "xiaowanzi01", "external_userid": "wmSYNC0000",
                                                "remark": "老客户", "description": "爱买面膜"})
    # We saw a deletion the customer has since undone (the re-add event was lost).
    services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmSYNC0000", state="", at=at(9000))
    services.record_loss(ws, staff_userid="xiaowanzi01", external_userid="wmSYNC0000", at=at(8000),
                         by="customer")
    assert counts(ws)["xiaowanzi01"] == 0
    twin.advance(0)
    sync.run_sync(ws, sync.start_sync(ws, admin, enqueue=False).pk)
    relation = FollowRelation.objects.for_workspace(ws).get(customer__external_userid="wmSYNC0000",
                                                             account__userid="xiaowanzi01")
    assert (relation.remark, relation.description) == ("老客户", "爱买面膜")
    assert relation.active and relation.times_added == 2
    assert counts(ws)["xiaowanzi01"] == 2  # wmSYNC0000 (back) and wmSYNC0002


def test_a_sync_resumes_where_a_wecom_failure_stopped_it(brand_a, limited_twin):
    twin = limited_twin
    connect(brand_a.workspace, twin)
    populate(twin, 250, both_every=1000)  # 251 follows: the first customer follows both
    ws, admin = brand_a.workspace, seat(brand_a.admin, brand_a.workspace)
    for userid in ("xiaowanzi01", "xiaowanzi02"):  # already synced: the sync reads no address book
        StaffAccount.objects.create(workspace=ws, userid=userid, name=userid, synced_at=at())

    first = sync.run_sync(ws, sync.start_sync(ws, admin, enqueue=False).pk)
    assert first.status == SyncStatus.FAILED and "45009" in first.error
    assert (first.pages, first.relations_seen, first.cursor != "") == (2, 200, True)
    assert FollowRelation.objects.for_workspace(ws).count() == 200
    assert sync.running_sync(ws) is None

    twin.advance(61)  # WeCom lifts the block after a minute
    resumed = sync.resume_sync(ws, admin, first.pk, enqueue=False)
    assert resumed.status == SyncStatus.RUNNING and resumed.pages == 2
    done = sync.run_sync(ws, first.pk)
    assert done.status == SyncStatus.DONE
    assert (done.pages, done.relations_seen, done.customers_seen) == (3, 251, 250)
    assert Customer.objects.for_workspace(ws).count() == 250
    assert sum(counts(ws).values()) == 251  # every follow counted once, none twice
    with pytest.raises(ValidationError):
        sync.resume_sync(ws, admin, first.pk, enqueue=False)


def test_one_running_sync_per_brand_and_only_editors_start_one(brand_a, brand_b, twin):
    connect(brand_a.workspace, twin)
    ws = brand_a.workspace
    running = sync.start_sync(ws, seat(brand_a.admin, ws), enqueue=False)
    with pytest.raises(ValidationError):
        sync.start_sync(ws, seat(brand_a.members["customer_ops"], ws), enqueue=False)
    with pytest.raises(ValidationError):
        sync.resume_sync(ws, seat(brand_a.admin, ws), running.pk, enqueue=False)  # still running, not stale
    with pytest.raises(PermissionDenied):
        sync.start_sync(ws, seat(brand_a.members["data_analyst"], ws), enqueue=False)
    # Another brand may sync at the same time, and cannot see or resume this one.
    sync.start_sync(brand_b.workspace, seat(brand_b.admin, brand_b.workspace), enqueue=False)
    with pytest.raises(CustomerSync.DoesNotExist):
        sync.resume_sync(brand_b.workspace, seat(brand_b.admin, brand_b.workspace), running.pk, enqueue=False)


def test_with_no_staff_accounts_the_sync_fetches_them_first_and_runs_in_a_worker(transactional_db, brand_a, twin):
    connect(brand_a.workspace, twin)
    populate(twin, 5)
    ws = brand_a.workspace
    assert not StaffAccount.objects.for_workspace(ws).exists()
    started = sync.start_sync(ws, seat(brand_a.admin, ws))
    drain()
    done = CustomerSync.objects.for_workspace(ws).get(pk=started.pk)
    assert done.status == SyncStatus.DONE, done.error
    assert sorted(done.staff_userids) == ["xiaowanzi01", "xiaowanzi02"]
    assert Customer.objects.for_workspace(ws).count() == 5


def test_the_sync_page_starts_shows_progress_and_history(brand_a, brand_b, twin, login):
    connect(brand_a.workspace, twin)
    populate(twin, 3)
    ws = brand_a.workspace
    client = login(brand_a.members["customer_ops"])
    with translation.override("en"):
        page = client.get("/customers/sync/")
        assert page.status_code == 200 and 'data-testid="sync-start"' in page.content.decode()
        response = client.post("/customers/sync/start/")
        assert response.status_code == 302
        current = CustomerSync.objects.for_workspace(ws).get()
        running = client.get(f"/customers/sync/{current.pk}/status/").content.decode()
        assert 'hx-trigger="every 2s"' in running  # polled while it runs
        assert sync.run_sync(ws, current.pk).status == SyncStatus.DONE
        status = client.get(f"/customers/sync/{current.pk}/status/").content.decode()
        assert "hx-trigger" not in status and "3 位客户" in status  # the console speaks zh-hans
    # Viewers see, do not start; another brand sees nothing of this one.
    viewer = login(brand_a.members["data_analyst"])
    assert 'data-testid="sync-start"' not in viewer.get("/customers/sync/").content.decode()
    assert viewer.post("/customers/sync/start/").status_code == 403
    assert viewer.post(f"/customers/sync/{current.pk}/resume/").status_code == 403
    other = login(brand_b.admin)
    assert other.get(f"/customers/sync/{current.pk}/status/").status_code == 404
    assert other.post(f"/customers/sync/{current.pk}/resume/").status_code == 404
    assert 'data-testid="sync-row"' not in other.get("/customers/sync/").content.decode()
    assert login(brand_a.members["copywriter"]).get("/customers/sync/").status_code == 403


def test_the_sync_api_starts_and_reports(brand_a, brand_b, twin, login):
    connect(brand_a.workspace, twin)
    client = login(brand_a.admin)
    started = client.post("/api/customers/sync", content_type="application/json")
    assert started.status_code == 200, started.content
    sync_id = started.json()["id"]
    assert client.post("/api/customers/sync", content_type="application/json").status_code == 422
    assert client.get(f"/api/customers/sync/{sync_id}").json()["status"] == "running"
    assert login(brand_b.admin).get(f"/api/customers/sync/{sync_id}").status_code == 404
    assert login(brand_a.members["data_analyst"]).post("/api/customers/sync").status_code == 403
    assert login(brand_b.admin).post(f"/api/customers/sync/{sync_id}/resume").status_code == 404
    assert [s["id"] for s in login(brand_b.admin).get("/api/customers/sync").json()] == []


def test_a_sync_whose_worker_died_may_be_resumed_once_stale(brand_a, twin):
    import datetime as dt

    from django.utils import timezone

    connect(brand_a.workspace, twin)
    populate(twin, 3)
    ws, admin = brand_a.workspace, seat(brand_a.admin, brand_a.workspace)
    started = sync.start_sync(ws, admin, enqueue=False)
    CustomerSync.objects.for_workspace(ws).filter(pk=started.pk).update(
        updated_at=timezone.now() - sync.STALE_AFTER - dt.timedelta(seconds=1))
    resumed = sync.resume_sync(ws, admin, started.pk, enqueue=False)
    assert not sync.is_stale(resumed)
    assert sync.run_sync(ws, started.pk).status == SyncStatus.DONE


def test_a_sync_keeps_the_tags_wecom_lists_per_relation(transactional_db, brand_a, twin):
    """The tags arrive through the tags app's subscriber to the sync's `FollowTagsListed`."""
    from siyu.tags.models import CustomerTag, Tag, TagGroup

    connect(brand_a.workspace, twin)
    populate(twin, 2)
    ws, admin = brand_a.workspace, seat(brand_a.admin, brand_a.workspace)
    token = twin.token()
    group = twin.call("externalcontact/add_corp_tag", token,
                      json={"group_name": "兴趣", "tag": [{"name": "护肤"}]})["tag_group"]
    wecom_tag = group["tag"][0]["id"]
    local_group = TagGroup.objects.create(workspace=ws, name="兴趣", wecom_group_id=group["group_id"])
    tag = Tag.objects.create(workspace=ws, group=local_group, name="护肤", wecom_tag_id=wecom_tag)
    twin.call("externalcontact/mark_tag", token,
              json={"userid": "xiaowanzi01", "external_userid": "wmSYNC0000", "add_tag": [wecom_tag]})
    sync.run_sync(ws, sync.start_sync(ws, admin, enqueue=False).pk)
    drain()
    link = CustomerTag.objects.for_workspace(ws).get()
    assert (link.customer.external_userid, link.tag_id, link.account.userid) == ("wmSYNC0000", tag.pk, "xiaowanzi01")
    # Unmarked in WeCom since: the next sync removes it.
    twin.call("externalcontact/mark_tag", token,
              json={"userid": "xiaowanzi01", "external_userid": "wmSYNC0000", "remove_tag": [wecom_tag]})
    sync.run_sync(ws, sync.start_sync(ws, admin, enqueue=False).pk)
    drain()
    assert not CustomerTag.objects.for_workspace(ws).exists()


def test_a_sync_whose_worker_died_is_resumed_by_the_scheduled_job(transactional_db, brand_a, brand_b, twin):
    import datetime as dt

    from django.utils import timezone

    from siyu.customers.tasks import resume_stale_syncs

    connect(brand_a.workspace, twin)
    populate(twin, 4)
    ws = brand_a.workspace
    dead = sync.start_sync(ws, seat(brand_a.admin, ws), enqueue=False)  # its worker never ran
    fresh = sync.start_sync(brand_b.workspace, seat(brand_b.admin, brand_b.workspace), enqueue=False)
    assert resume_stale_syncs.call() == 0  # neither is stale yet
    CustomerSync.unscoped.filter(pk=dead.pk).update(updated_at=timezone.now() - sync.STALE_AFTER - dt.timedelta(seconds=1))

    assert resume_stale_syncs.call() == 1
    drain()
    dead.refresh_from_db()
    fresh.refresh_from_db()
    assert dead.status == SyncStatus.DONE and Customer.objects.for_workspace(ws).count() == 4
    assert fresh.status == SyncStatus.RUNNING


def test_a_sync_ends_friendships_wecom_no_longer_lists_except_for_unlicensed_staff(brand_a, twin, login):
    connect(brand_a.workspace, twin)
    populate(twin, 6)  # xiaowanzi01: 0, 2, 4; xiaowanzi02: 1, 3, 5 (and 0)
    ws, admin = brand_a.workspace, seat(brand_a.admin, brand_a.workspace)
    first = sync.run_sync(ws, sync.start_sync(ws, admin, enqueue=False).pk)
    assert first.follows_ended == 0 and counts(ws) == {"xiaowanzi01": 3, "xiaowanzi02": 4}

    # Two customers delete their account while our callback receiver is away: the events are lost.
    for staff, external in (("xiaowanzi01", "wmSYNC0002"), ("xiaowanzi02", "wmSYNC0003")):
        twin.admin.post("/twin/customers/delete-staff", json={
            "staff_userid": staff, "external_userid": external}).raise_for_status()
    # xiaowanzi02 loses its interface licence: WeCom lists none of its customers any more.
    twin.add_staff("xiaowanzi02", licensed=False)

    second = sync.run_sync(ws, sync.start_sync(ws, admin, enqueue=False).pk)
    assert second.status == SyncStatus.DONE
    assert (second.follows_ended, second.unlicensed_userids) == (1, ["xiaowanzi02"])
    gone = FollowRelation.objects.for_workspace(ws).get(customer__external_userid="wmSYNC0002")
    assert (gone.active, gone.deleted_by) == (False, "unlisted")
    assert TimelineEntry.objects.for_workspace(ws).filter(customer=gone.customer, kind="customers.unlisted").count() == 1
    # The unlicensed account keeps every friendship, the lost deletion included, until it is licensed.
    assert counts(ws) == {"xiaowanzi01": 2, "xiaowanzi02": 4}

    twin.add_staff("xiaowanzi02", licensed=True)
    third = sync.run_sync(ws, sync.start_sync(ws, admin, enqueue=False).pk)
    assert (third.follows_ended, third.unlicensed_userids) == (1, [])
    assert counts(ws) == {"xiaowanzi01": 2, "xiaowanzi02": 3}
    # A relation added after a sync started is never taken for a missed deletion.
    services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmLATE", state="", at=at(-60))
    assert sync.end_unlisted_follows(ws, third) == 0

    client = login(brand_a.admin)
    with translation.override("en"):
        page = client.get("/customers/sync/").content.decode()
    assert 'data-testid="sync-ended">1<' in page
