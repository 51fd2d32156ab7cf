"""The tags app's reactions: WeCom's corp tag changes (`change_external_tag`), staff tagging a
customer in the client (`edit_external_contact`), follows starting and customers changing (auto-
tagging rules), and the required groups changing (completeness). Each is idempotent: it re-reads
WeCom's or our current state and applies it, so a replay changes nothing."""

from __future__ import annotations

import logging

from siyu.accounts.models import StaffAccount
from siyu.core import events
from siyu.core.models import EventRecord, Workspace
from siyu.customers.events import CustomersChanged, FollowStarted, FollowTagsListed
from siyu.customers.models import Customer
from siyu.customers.services import profile
from siyu.tags.events import RequiredGroupsChanged
from siyu.tags.services import catalogue, completeness, rules, tagging
from siyu.wecom.events import ContactEdited, CorpTagChanged
from siyu.wecom.services import client_for

logger = logging.getLogger("siyu.tags")


@events.subscribe(CorpTagChanged)
def keep_corp_tag_change(workspace: Workspace, event: CorpTagChanged, record: EventRecord) -> None:
    if event.strategy_id:
        return  # rule-group (strategy) tags are another API; not kept here
    catalogue.apply_tag_change(workspace, change_type=event.change_type, wecom_id=event.tag_id,
                               tag_type=event.tag_type)


@events.subscribe(ContactEdited)
def keep_client_tagging(workspace: Workspace, event: ContactEdited, record: EventRecord) -> None:
    """Staff edited the customer in the client: read the customer's follow info from WeCom
    (`externalcontact/get`) and keep that staff member's tags, remark and description."""

    customer = Customer.objects.for_workspace(workspace).filter(external_userid=event.external_userid).first()
    account = StaffAccount.objects.for_workspace(workspace).filter(userid=event.staff_userid).first()
    if customer is None or account is None:
        logger.info("edit of %s by %s before we know them; the next sync keeps it",
                    event.external_userid, event.staff_userid)
        return
    follow = None
    cursor = ""
    with client_for(workspace) as client:
        while follow is None:
            detail = client.get_customer(event.external_userid, cursor)
            follow = next((f for f in detail.follow_user if f.userid == event.staff_userid), None)
            cursor = detail.next_cursor
            if not cursor:
                break
    if follow is None:
        return  # no longer friends: the loss event ends the relation
    profile.keep_wecom_remark(workspace, customer.pk, account.pk, follow.remark, follow.description)
    tag_ids = [t.tag_id for t in follow.tags if t.tag_id] or list(follow.tag_id)
    catalogue.learn_tags(workspace, tag_ids)
    tagging.keep_wecom_tags(workspace, customer.pk, account.pk, tag_ids)


@events.subscribe(FollowStarted)
def tag_new_follow(workspace: Workspace, event: FollowStarted, record: EventRecord) -> None:
    rules.apply_rules(workspace, [event.customer_id])


@events.subscribe(CustomersChanged)
def tag_changed_customers(workspace: Workspace, event: CustomersChanged, record: EventRecord) -> None:
    if event.reason == "tags":
        return  # our own tagging: re-running rules on it could only loop
    rules.apply_rules(workspace, event.customer_ids)


@events.subscribe(FollowTagsListed)
def keep_synced_tags(workspace: Workspace, event: FollowTagsListed, record: EventRecord) -> None:
    """A full sync's page: each relation's tags become what WeCom listed (idempotent)."""
    for customer_id, account_id, wecom_tag_ids in event.marks:
        tagging.keep_wecom_tags(workspace, customer_id, account_id, wecom_tag_ids)


@events.subscribe(RequiredGroupsChanged)
def recompute_completeness(workspace: Workspace, event: RequiredGroupsChanged, record: EventRecord) -> None:
    completeness.recompute_all(workspace)
