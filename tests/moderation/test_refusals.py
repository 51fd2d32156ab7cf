"""The twin refuses to kick or auto-reply in a customer group, and Siyu never asks: the
moderation flows end in tasks for people with no call to any refused path."""

from __future__ import annotations

from siyu.moderation import services
from siyu.moderation.models import Alert, BlacklistHit
from siyu.simulator.refusals import API_FORBIDDEN, REFUSED_PATHS
from siyu.sop.models import StaffTask
from siyu.wecom.models import ApiCall
from tests.moderation.conftest import joined, made_group, removed


def test_the_twin_refuses_every_kick_and_auto_reply_path(twin):
    token = twin.token()
    for path in REFUSED_PATHS:
        answer = twin.call(path, token, {"chat_id": "wr1", "userid_list": ["wm0000"], "text": {"content": "hi"}})
        assert answer["errcode"] == API_FORBIDDEN, path
        assert "forbidden" in answer["errmsg"]


def test_the_moderation_flows_complete_without_calling_a_refused_path(club):
    ws = club.workspace
    admin = club.seat("admin")
    services.save_rules(ws, admin, name="群规", behaviour="不发广告")
    first = made_group(club, "福利群1", ["wm0000", "wm0001"])
    other = made_group(club, "学习群", ["wm0002"], owner="staff1")
    services.publish_rules(ws, admin, services.rules_of(ws).get().pk)
    removed(club, first, "wm0001")  # blacklisted
    joined(club, other, "wm0001")  # flagged, with a removal task
    club.twin.admin.post("/twin/customers/add", json={"external_userid": "wm0100", "name": "加微信领福利",
                                                      "staff_userid": "staff0"}).raise_for_status()
    joined(club, other, "wm0100")  # a keyword alert
    services.report(ws, admin, services.ReportInput(other.pk, "wm0002", "发二维码拉人", blacklist=True))
    services.removal_task(ws, admin, group_id=other.pk, userid="wm0002", reason="发二维码")
    assert BlacklistHit.objects.for_workspace(ws).count() == 1
    assert Alert.objects.for_workspace(ws).count() == 2
    assert StaffTask.objects.for_workspace(ws).filter(source="moderation").count() == 6  # 2 notices, hit, 2 alerts, hand
    assert ApiCall.objects.for_workspace(ws).exists()  # Siyu did talk to WeCom (reading groups) …
    assert not ApiCall.objects.for_workspace(ws).filter(endpoint__in=REFUSED_PATHS).exists()  # … never to refuse
    assert not set(club.twin.state()["api_calls"]) & set(REFUSED_PATHS)
