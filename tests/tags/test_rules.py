"""Rule-based auto-tagging: by channel, lifecycle stage, custom field and behaviour; on follow
start, on customer changes, nightly and on demand; idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from siyu.core import events
from siyu.customers.events import CustomersChanged
from siyu.customers.models import Customer
from siyu.tags import services
from siyu.tags.models import CustomerTag, RuleKind, Tag, TagSource
from siyu.tags.services import rules
from tests.tags.conftest import befriend, channel_codes, drain, seed_twin_tags, twin_marks


@pytest.fixture
def vip(shop):
    seed_twin_tags(shop.twin, "人群", ["门店客", "新客", "油皮", "沉睡"])
    services.sync_tags(shop.workspace, shop.ops)
    channel_codes(shop, "chstore01", "chstore02")
    return {t.name: t for t in Tag.objects.for_workspace(shop.workspace)}


def tagged(workspace, tag):
    return set(CustomerTag.objects.for_workspace(workspace).filter(tag=tag)
               .values_list("customer__external_userid", flat=True))


def make(shop, tag, kind, **params):
    return rules.create_rule(shop.workspace, shop.ops, rules.RuleInput(name=f"{kind} rule", tag_id=tag.pk,
                                                                       kind=kind, params=params))


def test_channel_rule_tags_customers_of_those_codes(shop, vip):
    befriend(shop, "wmStore", state="chstore01")
    befriend(shop, "wmAd", state="chad01")
    rule = make(shop, vip["门店客"], RuleKind.CHANNEL, states="chstore01, chstore02")
    assert rules.run_rule(shop.workspace, shop.ops, rule.pk) == 1
    assert tagged(shop.workspace, vip["门店客"]) == {"wmStore"}
    assert twin_marks(shop.twin, "xiaowanzi01", "wmStore") == [vip["门店客"].wecom_tag_id]
    assert CustomerTag.objects.for_workspace(shop.workspace).get().source == TagSource.RULE
    assert rules.run_rule(shop.workspace, shop.ops, rule.pk) == 0  # idempotent
    rule.refresh_from_db()
    assert rule.last_run_at and rule.last_run_tagged == 0


def test_stage_rule(shop, vip):
    a, b = befriend(shop, "wmA"), befriend(shop, "wmB")
    Customer.unscoped.filter(pk=a.pk).update(stage="engaged")
    rule = make(shop, vip["新客"], RuleKind.STAGE, stages=["engaged", "customer"])
    rules.run_rule(shop.workspace, shop.ops, rule.pk)
    assert tagged(shop.workspace, vip["新客"]) == {"wmA"}
    assert b.pk


def test_field_rule_equals_and_contains(shop, vip):
    for ext, fields in (("wmOily", {"skin": "oily"}), ("wmMixed", {"skin": "oily-dry"}), ("wmNone", {})):
        c = befriend(shop, ext)
        Customer.unscoped.filter(pk=c.pk).update(fields=fields)
    equals = make(shop, vip["油皮"], RuleKind.FIELD, key="skin", op="equals", value="oily")
    rules.run_rule(shop.workspace, shop.ops, equals.pk)
    assert tagged(shop.workspace, vip["油皮"]) == {"wmOily"}
    contains = make(shop, vip["新客"], RuleKind.FIELD, key="skin", op="contains", value="OILY")
    rules.run_rule(shop.workspace, shop.ops, contains.pk)
    assert tagged(shop.workspace, vip["新客"]) == {"wmOily", "wmMixed"}


def test_field_rule_matches_numbers(shop, vip):
    c = befriend(shop, "wmLevel")
    Customer.unscoped.filter(pk=c.pk).update(fields={"level": 3})
    rule = make(shop, vip["新客"], RuleKind.FIELD, key="level", op="equals", value="3")
    rules.run_rule(shop.workspace, shop.ops, rule.pk)
    assert tagged(shop.workspace, vip["新客"]) == {"wmLevel"}


def test_behaviour_rule_added_long_ago_and_never_engaged(shop, vip):
    befriend(shop, "wmOld", days_ago=40)
    engaged = befriend(shop, "wmOldEngaged", days_ago=40)
    befriend(shop, "wmRecent", days_ago=3)
    Customer.unscoped.filter(pk=engaged.pk).update(last_engaged_at=timezone.now())
    make(shop, vip["沉睡"], RuleKind.BEHAVIOUR, days=30)
    assert rules.run_time_rules(shop.workspace) == 1
    assert tagged(shop.workspace, vip["沉睡"]) == {"wmOld"}
    # Time passes: the recent one crosses 30 days too at the next nightly run.
    assert rules.run_time_rules(shop.workspace, now=timezone.now() + dt.timedelta(days=28)) == 1
    assert tagged(shop.workspace, vip["沉睡"]) == {"wmOld", "wmRecent"}


def test_rules_are_validated(shop, vip):
    with pytest.raises(ValidationError):
        make(shop, vip["新客"], RuleKind.STAGE, stages=["vip"])
    with pytest.raises(ValidationError):
        make(shop, vip["新客"], RuleKind.FIELD, key="a__b", op="equals", value="x")
    with pytest.raises(ValidationError):
        make(shop, vip["新客"], RuleKind.BEHAVIOUR, days=0)
    with pytest.raises(ValidationError):
        make(shop, vip["新客"], RuleKind.CHANNEL, states=[])


def test_disabled_rules_do_not_run_on_events(shop, vip):
    c = befriend(shop, "wmStore", state="chstore01")
    rule = make(shop, vip["门店客"], RuleKind.CHANNEL, states=["chstore01"])
    rules.set_enabled(shop.workspace, shop.ops, rule.pk, False)
    assert rules.apply_rules(shop.workspace, [c.pk]) == 0


def test_a_new_follow_through_a_code_is_tagged_by_its_rule(transactional_db, shop, vip):
    make(shop, vip["门店客"], RuleKind.CHANNEL, states=["chstore01"])
    befriend(shop, "wmStore", state="chstore01")  # publishes FollowStarted
    drain()
    assert tagged(shop.workspace, vip["门店客"]) == {"wmStore"}


def test_a_changed_customer_is_tagged_but_tag_changes_do_not_loop(transactional_db, shop, vip):
    c = befriend(shop, "wmA")
    drain()
    make(shop, vip["新客"], RuleKind.STAGE, stages=["engaged"])
    make(shop, vip["油皮"], RuleKind.STAGE, stages=["engaged"])
    Customer.unscoped.filter(pk=c.pk).update(stage="engaged")
    events.publish(shop.workspace, CustomersChanged(customer_ids=[c.pk], reason="lifecycle"))
    drain()
    assert tagged(shop.workspace, vip["新客"]) == {"wmA"} and tagged(shop.workspace, vip["油皮"]) == {"wmA"}
    from siyu.core.models import EventRecord

    # Our own tagging published one "tags" change per rule; the rules ignored them (no more tagging).
    reasons = list(EventRecord.objects.for_workspace(shop.workspace).filter(name="customers.changed")
                   .values_list("payload__reason", flat=True))
    assert reasons.count("tags") == 2


def test_a_channel_rule_naming_a_state_no_code_has_is_refused_with_the_state(shop, vip):
    """Issue 12 item 1: a typed state used to be accepted and matched nobody, silently."""
    with pytest.raises(ValidationError) as refused:
        make(shop, vip["门店客"], RuleKind.CHANNEL, states=["chstore01", "chtypo"])
    assert "chtypo" in str(refused.value) and "chstore01" not in str(refused.value)
