"""Auto-tags: a code's corp tags marked on each new friend at WeCom (the twin) and recorded
locally, since API-made changes fire no callback (WECOM.md §0)."""

from __future__ import annotations

import pytest
from django.utils import translation

from siyu.core.events import retry_run
from siyu.core.models import RunStatus, SubscriberRun
from siyu.customers.models import TimelineEntry
from siyu.tags.models import CustomerTag, TagSource
from siyu.tags.timeline import TagTimeline
from siyu.wecom.models import ApiCall
from tests.channels.conftest import drain, make_code, publish_add, scan_and_add


@pytest.fixture(autouse=True)
def _english():
    """These tests read the services' reasons in English; the console's default is Chinese."""
    with translation.override("en"):
        yield

def corp_tags(twin, *names: str) -> list[str]:
    group = twin.api("externalcontact/add_corp_tag",
                     {"group_name": "渠道", "tag": [{"name": n} for n in names]})["tag_group"]
    return [t["id"] for t in group["tag"]]


def tags_at_twin(twin, added) -> list[str]:
    return next(f["tag_ids"] for f in twin.state()["friendships"]
                if (f["userid"], f["external_userid"]) == (added["userid"], added["external_userid"]))


def tagged(shop) -> list[str]:
    return list(TimelineEntry.objects.for_workspace(shop.workspace).filter(kind=TagTimeline.TAGGED)
                .values_list("detail", flat=True))


def test_a_codes_auto_tags_are_marked_at_wecom_and_recorded(live_shop):
    ids = corp_tags(live_shop.twin, "门店新客", "南京西路")
    make_code(live_shop.workspace, auto_tag_ids=ids)
    added = scan_and_add(live_shop.twin, "xiaowanzi01", "chwelcome01")
    publish_add(live_shop.workspace, added)
    drain()
    assert tags_at_twin(live_shop.twin, added) == ids
    assert tagged(live_shop) == ["Tags applied: 门店新客、南京西路"]
    # Recorded as the customer's tags too (learnt from WeCom, since no tag sync ran), so segments
    # and tag completeness count them.
    links = CustomerTag.objects.for_workspace(live_shop.workspace).select_related("tag", "account")
    assert sorted((link.tag.name, link.source, link.account.userid) for link in links) == [
        ("南京西路", TagSource.CHANNEL, "xiaowanzi01"), ("门店新客", TagSource.CHANNEL, "xiaowanzi01")]


def test_a_tag_id_wecom_does_not_know_is_recorded_and_the_others_applied(live_shop):
    [known] = corp_tags(live_shop.twin, "门店新客")
    make_code(live_shop.workspace, auto_tag_ids=[known, "etDELETED000"])
    added = scan_and_add(live_shop.twin, "xiaowanzi01", "chwelcome01")
    publish_add(live_shop.workspace, added)
    drain()
    assert tags_at_twin(live_shop.twin, added) == [known]
    assert tagged(live_shop) == ["Tags applied: 门店新客 · unknown to WeCom: etDELETED000"]
    run = SubscriberRun.objects.for_workspace(live_shop.workspace).get(subscriber__endswith="tag_friend_added")
    assert run.status == RunStatus.DONE


def test_tagging_run_again_marks_once_and_records_once(live_shop):
    ids = corp_tags(live_shop.twin, "门店新客")
    make_code(live_shop.workspace, auto_tag_ids=ids)
    added = scan_and_add(live_shop.twin, "xiaowanzi01", "chwelcome01")
    publish_add(live_shop.workspace, added)
    drain()
    retry_run(SubscriberRun.objects.for_workspace(live_shop.workspace).get(subscriber__endswith="tag_friend_added"))
    drain()
    assert ApiCall.objects.for_workspace(live_shop.workspace).filter(endpoint="externalcontact/mark_tag").count() == 1
    assert len(tagged(live_shop)) == 1


def test_a_code_without_auto_tags_calls_no_tag_api(live_shop):
    make_code(live_shop.workspace)
    publish_add(live_shop.workspace, scan_and_add(live_shop.twin, "xiaowanzi01", "chwelcome01"))
    drain()
    assert not ApiCall.objects.for_workspace(live_shop.workspace).filter(endpoint__contains="tag").exists()
    assert tagged(live_shop) == []
