"""Domain events the segments app publishes when a dynamic segment's members change."""

from __future__ import annotations

import datetime as dt

from siyu.core.events import DomainEvent


class SegmentEntered(DomainEvent):
    """These customers entered the segment (a refresh or a recompute added their member rows).
    At most `EVENT_IDS` ids per event: a recompute of a million members publishes a few hundred."""

    name = "segments.entered"
    segment_id: int
    customer_ids: list[int]
    at: dt.datetime


class SegmentLeft(DomainEvent):
    """These customers left the segment (their member rows were deleted)."""

    name = "segments.left"
    segment_id: int
    customer_ids: list[int]
    at: dt.datetime
