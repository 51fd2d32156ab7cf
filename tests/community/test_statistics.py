"""Messages and speakers per group from WeCom's `groupchat/statistic_group_by_day` (the twin over
HTTP): filled for a group whose owner has only that group, left unknown where WeCom's figures sum
several groups, asked once per day, and counted towards the group's quiet days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from siyu.community.models import CustomerGroup, GroupDaily
from siyu.community.services import record_statistics, refresh_group
from siyu.wecom.models import ApiCall

CHINA = ZoneInfo("Asia/Shanghai")


def _backdated(club, owner, name, guests):
    response = club.twin.admin.post("/twin/groups", json={"owner": owner, "name": name, "guests": guests,
                                                          "age_days": 10})
    response.raise_for_status()
    return refresh_group(club.workspace, response.json()["chat_id"])


def test_a_single_group_owner_s_day_fills_messages_and_speakers(club):
    ws = club.workspace
    alone = _backdated(club, "staff0", "会员群", 80)
    first = _backdated(club, "staff1", "福利一群", 30)
    second = _backdated(club, "staff1", "福利二群", 30)
    yesterday = dt.datetime.now(CHINA).date() - dt.timedelta(days=1)
    start = int(dt.datetime.combine(yesterday, dt.time.min, CHINA).timestamp())
    wecom = club.twin.api("externalcontact/groupchat/statistic_group_by_day", {
        "day_begin_time": start, "day_end_time": start, "owner_filter": {"userid_list": ["staff0"]}})["items"]
    [data] = [i["data"] for i in wecom]

    assert record_statistics(ws, [yesterday]) == 1
    row = GroupDaily.objects.for_workspace(ws).get(group=alone, day=yesterday)
    assert (row.messages, row.active_members) == (data["msg_total"], data["member_has_msg"])
    # staff1's figures are the sum of two groups: not given to either.
    assert not GroupDaily.objects.for_workspace(ws).filter(group__in=[first, second], messages__isnull=False).exists()
    if data["msg_total"]:
        assert CustomerGroup.objects.for_workspace(ws).get(pk=alone.pk).last_active_on == yesterday

    # Asked once: a second run asks WeCom nothing for the day already filled.
    asked = ApiCall.objects.for_workspace(ws).filter(endpoint__contains="statistic_group_by_day")
    assert asked.count() == 1
    assert record_statistics(ws, [yesterday]) == 0
    assert asked.count() == 1
