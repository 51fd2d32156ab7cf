"""Background work of the connector: turning stored callbacks into domain events."""

from __future__ import annotations

from django_tasks import task

from siyu.core.schedule import register_job


# Ahead of subscriber runs: a callback must become an event before anything (a welcome message
# with WeCom's 20 s window, WECOM.md §3) can react to it.
@task(priority=60)
def drain_inbox() -> int:
    from siyu.wecom.services import drain

    return drain()


@task()
def sweep_inbox() -> int:
    from siyu.wecom.services import requeue_unprocessed

    return requeue_unprocessed()


register_job("wecom.sweep_inbox", "* * * * *", sweep_inbox)
