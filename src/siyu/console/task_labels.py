"""Names people read on the Tasks page for the event bus's events and subscribers, which the
code knows by import path (`siyu.channels.subscribers.welcome_friend_added`) and event name
(`wecom.friend_added`). The path stays in a tooltip for whoever debugs; a new subscriber or
event without a name here or in its app's contract (`subscriber_labels`, `event_labels`) is caught by tests/console/test_tasks_page.py."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from siyu.core import contract
from siyu.core.models import SubscriberRun

SUBSCRIBERS: dict[str, Promise] = {
    "siyu.channels.subscribers.welcome_friend_added": _("Send the welcome message"),
    "siyu.channels.subscribers.welcome_friend_half_added": _("Send the welcome message (added without verification)"),
    "siyu.channels.subscribers.tag_friend_added": _("Channel code tags"),
    "siyu.channels.subscribers.tag_friend_half_added": _("Channel code tags (added without verification)"),
    "siyu.channels.tasks.reroute_after_follow": _("Channel code routing after an add"),
    "siyu.customers.subscribers.keep_friend_added": _("Record a new friend"),
    "siyu.customers.subscribers.keep_friend_half_added": _("Record a new friend (added without verification)"),
    "siyu.customers.subscribers.keep_churn": _("Record a customer's deletion"),
    "siyu.customers.subscribers.keep_staff_deletion": _("Record a staff deletion"),
    "siyu.customers.subscribers.keep_group_membership": _("Record customer group membership"),
    "siyu.community.subscribers.keep_group_created": _("Record a new customer group"),
    "siyu.community.subscribers.keep_group_updated": _("Keep a customer group's members and details"),
    "siyu.community.subscribers.keep_group_dismissed": _("Record a dismissed customer group"),
    "siyu.customers.churn.subscribers.alert_churn": _("Churn alert"),
    "siyu.customers.churn.subscribers.alert_capacity": _("Capacity alert"),
    "siyu.customers.churn.subscribers.keep_transfer_failed": _("Record a failed transfer"),
    "siyu.tags.subscribers.tag_new_follow": _("Auto-tags for a new friend"),
    "siyu.tags.subscribers.tag_changed_customers": _("Auto-tags after customer changes"),
    "siyu.tags.subscribers.keep_synced_tags": _("Keep the customer's WeCom tags"),
    "siyu.tags.subscribers.keep_client_tagging": _("Keep tags set in the WeCom app"),
    "siyu.tags.subscribers.keep_corp_tag_change": _("Keep the corp tag catalogue"),
    "siyu.tags.subscribers.recompute_completeness": _("Recompute tag completeness"),
    "siyu.segments.subscribers.keep_members_on_change": _("Segment members after customer changes"),
    "siyu.segments.subscribers.keep_members_on_follow_started": _("Segment members after an add"),
    "siyu.segments.subscribers.keep_members_on_follow_ended": _("Segment members after a loss"),
    "siyu.lifecycle.subscribers.recompute_changed_customers": _("Lifecycle stage after customer changes"),
    "siyu.lifecycle.subscribers.recompute_after_follow_started": _("Lifecycle stage after an add"),
    "siyu.lifecycle.subscribers.recompute_after_follow_ended": _("Lifecycle stage after a loss"),
    "siyu.sop.subscribers.enrol_on_add": _("SOP enrolment after an add"),
    "siyu.sop.subscribers.enrol_on_tag": _("SOP enrolment after tagging"),
    "siyu.sop.subscribers.enrol_on_segment_entered": _("SOP enrolment after entering a segment"),
    "siyu.sop.subscribers.enrol_on_segment_left": _("SOP enrolment after leaving a segment"),
    "siyu.sop.subscribers.enrol_on_stage": _("SOP enrolment after a lifecycle stage is reached"),
    "siyu.sop.subscribers.enrol_on_tag_removed": _("SOP enrolment after a tag is removed"),
}

EVENTS: dict[str, Promise] = {
    "accounts.capacity_alert": _("Account near its friend limit"),
    "core.member_joined": _("Member joined"),
    "core.workspace_created": _("Brand created"),
    "customers.changed": _("Customers changed"),
    "customers.follow_started": _("Friendship started"),
    "customers.follow_ended": _("Friendship ended"),
    "customers.follow_tags_listed": _("Customer's WeCom tags read"),
    "ip.persona_saved": _("Persona saved"),
    "segments.entered": _("Customers entered a segment"),
    "segments.left": _("Customers left a segment"),
    "tags.required_groups_changed": _("Required tag groups changed"),
    "tags.removed": _("Tags removed from customers"),
    "wecom.contact_edited": _("Customer edited in WeCom"),
    "wecom.corp_tag_changed": _("Corp tags changed in WeCom"),
    "wecom.customer_deleted_staff": _("Customer deleted a staff account"),
    "wecom.friend_added": _("Customer added a staff account"),
    "wecom.friend_half_added": _("Customer added a staff account without verification"),
    "wecom.group_created": _("Customer group created"),
    "wecom.group_dismissed": _("Customer group dismissed"),
    "wecom.group_updated": _("Customer group changed"),
    "wecom.staff_deleted_customer": _("Staff deleted a customer"),
    "wecom.transfer_failed": _("Transfer failed"),
}


@dataclass(frozen=True)
class RunLabel:
    event: str  # what people read
    event_name: str  # the event's code name, for the tooltip
    subscriber: str
    subscriber_path: str


def subscriber_labels() -> dict[str, Promise | str]:
    """Every subscriber's name: the ones above and those the apps declare in their contract."""
    return {**SUBSCRIBERS, **contract.subscriber_labels()}


def event_labels() -> dict[str, Promise | str]:
    return {**EVENTS, **contract.event_labels()}


def run_label(run: SubscriberRun) -> RunLabel:
    return RunLabel(
        event=str(event_labels().get(run.event.name, run.event.name)), event_name=run.event.name,
        subscriber=str(subscriber_labels().get(run.subscriber, run.subscriber.rsplit(".", 1)[-1])),
        subscriber_path=run.subscriber,
    )
