"""Domain events the tags app publishes."""

from __future__ import annotations

import datetime as dt

from siyu.core.events import DomainEvent


class RequiredGroupsChanged(DomainEvent):
    """The set of tag groups that count toward tag completeness (标签完善度) changed (a group's
    `required` flag, or a required group deleted): every customer's completeness is recomputed."""

    name = "tags.required_groups_changed"
    at: dt.datetime


class TagsRemoved(DomainEvent):
    """This tag came off these customers: untagged from the console or the API, or in the
    WeCom client (seen by a sync). A tag deleted as a whole is not announced here."""

    name = "tags.removed"
    tag_id: int
    customer_ids: list[int]
    at: dt.datetime
