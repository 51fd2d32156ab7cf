"""Events the IP studio publishes. The accounts module's profile-kit check (issue 4) will
subscribe to `ip.persona_saved` to re-compare each account with its persona."""

from __future__ import annotations

from siyu.core import events


class PersonaSaved(events.DomainEvent):
    name = "ip.persona_saved"
    persona_id: int
    created: bool
