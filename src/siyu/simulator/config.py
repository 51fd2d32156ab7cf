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
    # Threads delivering callbacks. One keeps them in order, which tests rely on; a burst of
    # adds needs several (one delivery thread carries about 100 callbacks/s).
    callback_threads: int = 1
    seed: int = 0  # seeds generated ids and tokens, so a run is reproducible
    # WECOM.md §4 [sdk]: a group holds at most 500; past 200 members QR joins stop working.
    group_max_members: int = 500
    group_qr_join_max_members: int = 200
    # WECOM.md §5: mass messages a customer (or group) receives a month. None: as many as the
    # month has days (doc 92135, 2025); the older rule was 4. Months are Asia/Shanghai months.
    mass_receive_limit_per_month: int | None = None
    mass_reminders_per_day: int = 3  # WECOM.md §5: remind_groupmsg_send <= 3 per 24 h
    mass_reminder_limit_errcode: int = 45009  # [?] WECOM.md does not give the code
    # WECOM.md §10 [sdk]: get_groupmsg_task / get_groupmsg_send_result answer 41063 (not ready)
    # this long after add_msg_template; how long WeCom needs is not documented.
    mass_query_ready_seconds: float = 2.0
    # [?] cancel_groupmsg_send on a task every sender has already sent: WeCom's code is unknown.
    mass_cancel_sent_errcode: int = 40058
    # The population's staff (population.py `StaffBehaviour`): the share who confirm a pending
    # 群发 on their own, after an exponential delay of this mean (simulated seconds); after a
    # reminder, a member confirms within the shorter mean, and one who ignored it gets another
    # chance with the same probability.
    mass_confirm_probability: float = 0.7
    mass_confirm_mean_delay_seconds: float = 2 * 3600
    mass_reminded_mean_delay_seconds: float = 10 * 60
    # WECOM.md §10 [sdk], message/send (应用消息): per app at most licences x 200 person-times a
    # day (blocked for the rest of the Shanghai day, with this errcode [?]); a member receives at
    # most 30 a minute and 1,000 an hour, the excess dropped silently.
    licences: int = 200
    notice_person_times_per_licence: int = 200
    notice_daily_limit_errcode: int = 45009
    notices_per_member_per_minute: int = 30
    notices_per_member_per_hour: int = 1000
    # WECOM.md §8: an on-job or resigned transfer takes effect after 24 h; at most 2 in 90 days.
    transfer_delay_seconds: float = 24 * 3600
    transfer_max_per_customer: int = 2
    transfer_window_days: int = 90
    transfer_limit_errcode: int = 40128  # [?] the per-customer code is not in WECOM.md
    # [?] WECOM.md is silent on whether the takeover staff gets an add_external_contact event.
    transfer_sends_add_event: bool = False
    # WECOM.md §6: uploaded media (media/upload, media/upload_attachment) last 3 days.
    media_ttl_seconds: int = 3 * 24 * 3600
    # WECOM.md §10, staff identity on the phone: OAuth codes are one-time and last 5 minutes;
    # the JS-SDK tickets (get_jsapi_ticket, ticket/get?type=agent_config) last 7,200 s.
    oauth_code_ttl_seconds: int = 300
    jsapi_ticket_ttl_seconds: int = 7200
    # The WeChat service account (服务号) the twin also plays (WECOM.md §10, fans' identity): its
    # appid and secret, as registered on the WeChat official-accounts platform.
    mp_app_id: str = "wxtwinmp00000001"
    mp_app_secret: str = "twin-mp-secret"  # noqa: S105 - a stand-in's well-known default
