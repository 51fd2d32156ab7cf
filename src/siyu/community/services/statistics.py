"""群统计 — messages and speakers per group and day, from WeCom's `groupchat/statistic_group_by_day`
(WECOM.md §10). WeCom reports by owner (群主), summed over the owner's groups, so a day's figures
belong to one group only when its owner had exactly one live group that day: those days fill
`GroupDaily.messages` and `active_members`; the others stay unknown (None). A day with messages
counts as active for the group's quiet days (`last_active_on`)."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q

from siyu.community.models import CustomerGroup, GroupDaily
from siyu.core.models import Workspace
from siyu.wecom.client import WeComError
from siyu.wecom.services import NotConnected, client_for

logger = logging.getLogger("siyu.community")

CHINA = ZoneInfo("Asia/Shanghai")  # WeCom's statistics count days in China time
MAX_DAYS = 30  # a window of at most 30 days (WECOM.md §10)


def _start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, CHINA)


def record_statistics(workspace: Workspace, days: list[dt.date]) -> int:
    """Fill messages and speakers of these days (over, in China time) for groups whose owner had
    only that group; days already filled are not asked again. Returns how many rows were filled."""
    if not days:
        return 0
    days = sorted(set(days))[-MAX_DAYS:]
    start, end = _start(days[0]), _start(days[-1]) + dt.timedelta(days=1)
    groups = list(CustomerGroup.objects.for_workspace(workspace).exclude(owner_userid="")
                  .filter(Q(dismissed_at__isnull=True) | Q(dismissed_at__gte=start),
                          Q(created_at__isnull=True) | Q(created_at__lt=end))
                  .values_list("pk", "owner_userid", "created_at", "dismissed_at"))
    # (owner, day) -> the owner's groups alive that day
    alive: dict[tuple[str, dt.date], list[int]] = {}
    for pk, owner, created, dismissed in groups:
        for day in days:
            day_start = _start(day)
            if (created is None or created < day_start + dt.timedelta(days=1)) and (
                    dismissed is None or dismissed >= day_start):
                alive.setdefault((owner, day), []).append(pk)
    single = {key: pks[0] for key, pks in alive.items() if len(pks) == 1}
    known = set(GroupDaily.objects.for_workspace(workspace).filter(
        day__in=days, group_id__in=set(single.values()), messages__isnull=False).values_list("group_id", "day"))
    wanted = {key: pk for key, pk in single.items() if (pk, key[1]) not in known}
    owners = sorted({owner for owner, _day in wanted})
    if not owners:
        return 0
    rows: list[GroupDaily] = []
    try:
        with client_for(workspace) as client:
            for owner in owners:  # one owner a call: WeCom sums the owners it is given
                try:
                    items = client.group_statistic_by_day(int(start.timestamp()), int(end.timestamp()) - 1, [owner])
                except WeComError as exc:
                    logger.warning("group statistics of %s failed: %s", owner, exc)
                    continue
                for item in items:
                    day = dt.datetime.fromtimestamp(item.stat_time, CHINA).date()
                    if (group_id := wanted.get((owner, day))) is not None:
                        rows.append(GroupDaily(workspace=workspace, group_id=group_id, day=day, messages=item.data.msg_total,
                                               active_members=item.data.member_has_msg))
    except NotConnected:
        return 0
    with transaction.atomic():
        GroupDaily.unscoped.bulk_create(rows, update_conflicts=True, unique_fields=["group", "day"],
                                        update_fields=["messages", "active_members"])
        for row in rows:
            if row.messages:
                CustomerGroup.objects.for_workspace(workspace).filter(pk=row.group_id).filter(
                    Q(last_active_on__isnull=True) | Q(last_active_on__lt=row.day)).update(last_active_on=row.day)
    return len(rows)
