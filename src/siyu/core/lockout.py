"""Sign-in lockout: at most `limit` password checks per (username, client) in a window.

An attempt is *claimed* before the password is checked, with a conditional UPDATE
(docs/conventions.md, "Claims"): the counter goes up only while it is below the limit, and the
database decides, so concurrent attempts past the limit are refused without a password check.
A read-then-write counter let 26 of 60 concurrent wrong passwords through with a limit of 5.

The window runs `seconds` from the last claimed attempt; a successful sign-in clears it.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.db.models import F
from django.utils import timezone

from siyu.core.models import SignInCounter


def counter_key(username: str, client: str) -> str:
    return hashlib.sha256(f"{username.lower()}|{client}".encode()).hexdigest()


def claim_attempt(key: str, limit: int, seconds: int, now: dt.datetime | None = None) -> int | None:
    """Count one attempt for `key`: its number in the window (1..limit), or None when the limit
    is reached and the caller must refuse without checking the password."""
    now = now or timezone.now()
    until = now + dt.timedelta(seconds=seconds)
    SignInCounter.objects.bulk_create(
        [SignInCounter(key=key, attempts=0, expires_at=until)], ignore_conflicts=True
    )
    # A window that has run out starts again; only one caller can win this reset.
    SignInCounter.objects.filter(key=key, expires_at__lte=now).update(attempts=0, expires_at=until)
    claimed = SignInCounter.objects.filter(key=key, attempts__lt=limit).update(
        attempts=F("attempts") + 1, expires_at=until
    )
    if not claimed:
        return None
    attempts = SignInCounter.objects.filter(key=key).values_list("attempts", flat=True).first()
    return attempts or 1


def clear(key: str) -> None:
    SignInCounter.objects.filter(key=key).delete()


def prune_expired(now: dt.datetime | None = None) -> int:
    """Delete the counters whose window ran out (nightly, with the rest of the history)."""
    deleted, _ = SignInCounter.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
