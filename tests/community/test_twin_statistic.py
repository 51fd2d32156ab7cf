"""The twin's `groupchat/statistic` and `statistic_group_by_day` (WECOM.md §4): figures by owner
and by day from a deterministic model of the population's chatter, within WeCom's windows."""

from __future__ import annotations

import time

DAY = 86400


def _midnight(twin) -> int:
    """Today's start in China time (the twin's clock runs at real time unless advanced)."""
    return (int(time.time()) + 8 * 3600) // DAY * DAY - 8 * 3600


def test_days_report_members_speakers_and_messages_the_same_each_time(twin):
    twin.admin.post("/twin/groups", json={"owner": "staff0", "name": "会员群", "guests": 120,
                                          "age_days": 20}).raise_for_status()
    today = _midnight(twin)
    body = {"day_begin_time": today - 7 * DAY, "day_end_time": today, "owner_filter": {"userid_list": ["staff0"]}}
    first = twin.api("externalcontact/groupchat/statistic_group_by_day", body)
    assert first["errcode"] == 0 and len(first["items"]) == 7  # today is not over: not reported
    data = first["items"][-1]["data"]
    assert data["chat_total"] == 1 and data["member_total"] > 100
    assert 0 < data["member_has_msg"] <= data["member_total"] and data["msg_total"] >= data["member_has_msg"]
    assert twin.api("externalcontact/groupchat/statistic_group_by_day", body)["items"] == first["items"]


def test_figures_by_owner_are_ordered_and_a_long_window_is_refused(twin):
    twin.admin.post("/twin/groups", json={"owner": "staff1", "name": "大群", "guests": 200,
                                          "age_days": 10}).raise_for_status()
    twin.admin.post("/twin/groups", json={"owner": "staff0", "name": "小群", "guests": 5,
                                          "age_days": 10}).raise_for_status()
    today = _midnight(twin)
    body = {"day_begin_time": today - 3 * DAY, "owner_filter": {"userid_list": ["staff0", "staff1"]}, "order_by": 5}
    answer = twin.api("externalcontact/groupchat/statistic", body)
    assert [i["owner"] for i in answer["items"]] == ["staff1", "staff0"] and answer["total"] == 2
    too_long = twin.api("externalcontact/groupchat/statistic", body | {"day_end_time": today + 31 * DAY})
    assert too_long["errcode"] == 40058
