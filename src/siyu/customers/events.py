"""Domain events the customers app publishes when a follow relation (跟进关系) starts or ends."""

from __future__ import annotations

import datetime as dt

from siyu.core.events import DomainEvent


class FollowStarted(DomainEvent):
    """A customer became a staff account's friend: a new relation, or a deleted one reactivated."""

    name = "customers.follow_started"
    relation_id: int
    customer_id: int
    account_id: int
    state: str
    at: dt.datetime
    reactivated: bool


class FollowEnded(DomainEvent):
    """A friendship ended: the customer deleted the account (churn), staff deleted the
    customer, or a transfer moved the customer away (`deleted_by`, a `DeletedBy` value)."""

    name = "customers.follow_ended"
    relation_id: int
    customer_id: int
    account_id: int
    state: str
    at: dt.datetime
    deleted_by: str


class CustomersChanged(DomainEvent):
    """Something segments or lifecycle rules read changed on these customers: tags, profile
    fields, lifecycle stage or score, a transfer. Follow changes are `FollowStarted`/`FollowEnded`.

    `reason` names the kind of change ("tags", "fields", "lifecycle", "transfer", "sync"), so a
    subscriber can ignore the changes it made itself and never loop. At most `CHANGED_BATCH` ids."""

    name = "customers.changed"
    customer_ids: list[int]
    reason: str


class FollowTagsListed(DomainEvent):
    """A full sync read these relations' tags from WeCom (`follow_info.tag_id` of
    `batch/get_by_user`): (customer id, staff account id, WeCom tag ids), one sync page's worth.
    The tags app makes each customer's tags marked through that account what WeCom lists."""

    name = "customers.follow_tags_listed"
    marks: list[tuple[int, int, list[str]]]
