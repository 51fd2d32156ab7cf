"""The twin's settings: the corp it pretends to be, its callback target and its rules' limits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TwinConfig:
    """One simulated corp with one in-house app.

    Limits that WECOM.md marks [?] are configurable here rather than hard-coded.
    """

    corp_id: str = "wwtwin0000000001"
    agent_id: str = "1000002"
    corp_secret: str = "twin-secret"  # noqa: S105 - a stand-in's well-known default
    callback_token: str = "TwinToken"  # noqa: S105
    encoding_aes_key: str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
    # The platform's `/wecom/callback/<slug>/`; None keeps events in state undelivered.
    callback_url: str | None = None
    token_ttl_seconds: int = 7200  # WECOM.md §1
    # WECOM.md §1: 10,000 calls/min per corp per API; breaking it blocks that API for 60 s.
    rate_limit_per_minute: int = 10_000
    rate_limit_block_seconds: int = 60
    welcome_window_seconds: float = 20  # WECOM.md §3: send_welcome_msg within 20 s of the event
    default_capacity: int = 5_000  # WECOM.md §3 friend limits [sdk/?]
    # WECOM.md §2: no response within 5 s counts as a failure; "about three times in all" [?].
    callback_timeout_seconds: float = 5.0
    callback_attempts: int = 3
    callback_retry_delay_seconds: float = 0.0
    seed: int = 0  # seeds generated ids and tokens, so a run is reproducible
