"""Events the staff-accounts module (企微号) publishes."""

from __future__ import annotations

from siyu.core import events


class CapacityAlert(events.DomainEvent):
    """容量预警 — a staff account's friends reached `level` percent (80 or 95) of its friend
    limit. Published once per crossing (see `accounts.services.capacity`)."""

    name = "accounts.capacity_alert"
    account_id: int
    userid: str
    level: int
    friend_count: int
    friend_limit: int
