"""积分 jobs: each night, expire what is left of lots past their date (idempotent per lot); every
hour, each brand's group rules (积分淘汰 and 人员定额: judge ended periods, settle warnings and
removals, fill free seats; idempotent per round, case and seat)."""

from __future__ import annotations

from django_tasks import task

from siyu.core.fanout import brands_of, for_each_brand, open_brand
from siyu.core.schedule import register_job
from siyu.core.tenancy import workspace_context
from siyu.points.models import GroupRule, PointsEntry
from siyu.points.services import expire_due, run_rules


@task()
def expire_brand(workspace_id: int) -> dict[str, int]:
    """One brand's expiry run: one expiry entry per lot, so a second run changes nothing."""
    workspace = open_brand(workspace_id)
    if workspace is None:
        return {}
    with workspace_context(workspace):
        return {"expired": expire_due(workspace)}


@task()
def expire_nightly() -> int:
    """Just after midnight in Shanghai: every brand with open lots that can expire."""
    return for_each_brand(expire_brand, brands_of(PointsEntry.unscoped.filter(remaining__gt=0,
                                                                             expires_at__isnull=False)))


register_job("points.expire_nightly", "5 0 * * *", expire_nightly)


@task()
def rules_brand(workspace_id: int) -> dict[str, int]:
    """One brand's group rules: each step claims its round, case or seat, so a rerun does nothing."""
    workspace = open_brand(workspace_id)
    if workspace is None:
        return {}
    with workspace_context(workspace):
        done = run_rules(workspace)
    return {"rounds": done.rounds, "removals": done.removals, "removed": done.removed, "invited": done.invited}


@task()
def group_rules() -> int:
    return for_each_brand(rules_brand, brands_of(GroupRule.unscoped.filter(active=True)))


register_job("points.group_rules", "25 * * * *", group_rules)


@task()
def seed_demo_checkins(workspace_id: int, attempt: int) -> None:
    from siyu.points import demo  # demo is loaded by `siyu demo` only

    workspace = open_brand(workspace_id)
    if workspace is not None:
        demo.seed_checkins(workspace, attempt)
