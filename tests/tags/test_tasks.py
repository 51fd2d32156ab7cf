"""The scheduled jobs: the first sync of a newly connected brand, and the nightly sync with the
time-based rules."""

from __future__ import annotations

from siyu.core.schedule import jobs
from siyu.customers.models import Customer
from siyu.tags.models import CustomerTag, RuleKind, Tag, TagSync
from siyu.tags.services import rules
from siyu.tags.tasks import first_sync, first_sync_brand, nightly_tags, nightly_tags_brand
from tests.support.jobs import run_queued
from tests.tags.conftest import befriend, seed_twin_tags


def test_jobs_are_scheduled():
    names = {job.name: job.cron for job in jobs()}
    assert names["tags.nightly"] == "30 2 * * *" and names["tags.first_sync"] == "*/5 * * * *"


def test_a_newly_connected_brand_is_synced_once(shop, brand_b):
    seed_twin_tags(shop.twin, "肤质", ["油皮"])
    assert first_sync.call() == 1  # brand_b is not connected: left alone
    assert run_queued(first_sync_brand) == [1]
    assert Tag.objects.for_workspace(shop.workspace).get().name == "油皮"
    assert first_sync.call() == 0
    assert not TagSync.objects.for_workspace(brand_b.workspace).exists()


def test_nightly_syncs_and_runs_behaviour_rules(shop):
    ids = seed_twin_tags(shop.twin, "活跃度", ["沉睡"])
    first_sync.call()
    run_queued(first_sync_brand)
    tag = Tag.objects.for_workspace(shop.workspace).get()
    rules.create_rule(shop.workspace, shop.ops, rules.RuleInput("30 天未互动", tag.pk, RuleKind.BEHAVIOUR, {"days": 30}))
    old = befriend(shop, "wmOld", days_ago=31)
    befriend(shop, "wmNew", days_ago=1)
    shop.twin.api("externalcontact/edit_corp_tag", {"id": ids["沉睡"], "name": "沉睡客户"})
    assert nightly_tags.call() == 1  # one task per connected brand
    assert run_queued(nightly_tags_brand) == [{"synced": 1, "failed": 0, "tagged": 1}]
    assert Tag.objects.for_workspace(shop.workspace).get().name == "沉睡客户"
    assert list(CustomerTag.objects.for_workspace(shop.workspace).values_list("customer_id", flat=True)) == [old.pk]
    assert Customer.objects.for_workspace(shop.workspace).count() == 2
