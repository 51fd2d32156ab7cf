"""Console notifications (站内通知): one per member and cause, read only by their member, the bell
counts them, and the page and API never show another member's or another brand's notices."""

from __future__ import annotations

from django.utils import translation

from siyu.core import notifications
from siyu.core.models import Notification
from siyu.core.permissions import Role
from tests.conftest import seat


def test_notify_is_idempotent_by_dedupe_key(brand_a):
    ws = brand_a.workspace
    me = seat(brand_a.members[Role.CUSTOMER_OPS], ws)
    assert notifications.notify(ws, me, "test", "Hello", dedupe_key="k1") is True
    assert notifications.notify(ws, me, "test", "Hello again", dedupe_key="k1") is False
    assert notifications.notify(ws, me, "test", "No key") is True
    assert notifications.unread_count(ws, me) == 2


def test_the_same_notice_goes_once_to_each_member_and_never_to_another_brand(brand_a, brand_b):
    ws = brand_a.workspace
    mine, lead = seat(brand_a.members[Role.CUSTOMER_OPS], ws), seat(brand_a.members[Role.OPS_LEAD], ws)
    stranger = seat(brand_b.admin, brand_b.workspace)
    notice = notifications.Notice("test", "Hi", dedupe_key="same")
    assert notifications.notify_many(ws, [mine, lead, stranger, None], notice) == 2
    assert notifications.notify_many(ws, [mine, lead], notice) == 0
    assert Notification.unscoped.filter(workspace=brand_b.workspace).count() == 0


def test_leads_are_ops_leads_or_admins_when_there_is_none(brand_a):
    ws = brand_a.workspace
    assert [m.role for m in notifications.leads_of(ws)] == [Role.OPS_LEAD]
    seat(brand_a.members[Role.OPS_LEAD], ws).delete()
    assert [m.role for m in notifications.leads_of(ws)] == [Role.ADMIN]


def test_mark_read_touches_only_my_notices(brand_a):
    ws = brand_a.workspace
    me, other = seat(brand_a.members[Role.PLANNER], ws), seat(brand_a.members[Role.ADMIN], ws)
    notifications.notify(ws, me, "test", "Mine")
    notifications.notify(ws, other, "test", "Theirs")
    theirs = Notification.objects.for_workspace(ws).get(membership=other)
    assert notifications.mark_read(ws, me, [theirs.pk]) == 0
    assert notifications.mark_read(ws, me) == 1
    assert notifications.unread_count(ws, me) == 0 and notifications.unread_count(ws, other) == 1


def test_the_page_and_the_bell_show_only_my_notices(brand_a, brand_b, login):
    ws = brand_a.workspace
    me, other = seat(brand_a.members[Role.COPYWRITER], ws), seat(brand_a.members[Role.ADMIN], ws)
    notifications.notify(ws, me, "test", "给我的通知", url="/customers/")
    notifications.notify(ws, other, "test", "别人的通知")
    notifications.notify(brand_b.workspace, seat(brand_b.admin, brand_b.workspace), "test", "贝塔的通知")
    client = login(brand_a.members[Role.COPYWRITER])  # every role has notices, whatever its modules
    html = client.get("/notifications/").content.decode()
    assert "给我的通知" in html and "别人的通知" not in html and "贝塔的通知" not in html
    home = client.get("/").content.decode()
    assert 'data-testid="bell-count">1<' in home


def test_opening_a_notice_marks_it_read_and_goes_to_its_page(brand_a, login):
    ws = brand_a.workspace
    me = seat(brand_a.members[Role.CUSTOMER_OPS], ws)
    notifications.notify(ws, me, "test", "Go", url="/customers/")
    notice = Notification.objects.for_workspace(ws).get()
    client = login(brand_a.members[Role.CUSTOMER_OPS])
    response = client.get(f"/notifications/{notice.pk}/")
    assert response.status_code == 302 and response["Location"] == "/customers/"
    assert notifications.unread_count(ws, me) == 0


def test_another_members_notice_is_not_found(brand_a, brand_b, login):
    ws = brand_a.workspace
    notifications.notify(ws, seat(brand_a.admin, ws), "test", "Admin only", url="/")
    notice = Notification.objects.for_workspace(ws).get()
    assert login(brand_a.members[Role.PLANNER]).get(f"/notifications/{notice.pk}/").status_code == 404
    assert login(brand_b.admin).get(f"/notifications/{notice.pk}/").status_code == 404


def test_an_outside_link_is_not_followed(brand_a, login):
    ws = brand_a.workspace
    notifications.notify(ws, seat(brand_a.admin, ws), "test", "Phish", url="https://evil.example/")
    notice = Notification.objects.for_workspace(ws).get()
    response = login(brand_a.admin).get(f"/notifications/{notice.pk}/")
    assert response["Location"] == "/notifications/"


def test_mark_all_read_from_the_page(brand_a, login):
    ws = brand_a.workspace
    me = seat(brand_a.admin, ws)
    for i in range(3):
        notifications.notify(ws, me, "test", f"n{i}")
    client = login(brand_a.admin)
    assert client.post("/notifications/read/", {"all": "1"}).status_code == 302
    assert notifications.unread_count(ws, me) == 0
    with translation.override("en"):
        assert "No notifications" not in client.get("/notifications/").content.decode()


def test_the_api_lists_and_marks_only_my_notices(brand_a, brand_b, login):
    ws = brand_a.workspace
    me, other = seat(brand_a.members[Role.DATA_ANALYST], ws), seat(brand_a.admin, ws)
    notifications.notify(ws, me, "test", "Mine")
    notifications.notify(ws, other, "test", "Theirs")
    theirs = Notification.objects.for_workspace(ws).get(membership=other)
    client = login(brand_a.members[Role.DATA_ANALYST])
    assert [n["title"] for n in client.get("/api/churn/notifications").json()["items"]] == ["Mine"]
    answer = client.post("/api/churn/notifications/read", {"ids": [theirs.pk]}, content_type="application/json").json()
    assert answer == {"marked": 0, "unread": 1}
    answer = client.post("/api/churn/notifications/read", {}, content_type="application/json").json()
    assert answer == {"marked": 1, "unread": 0}
    assert login(brand_b.admin).get("/api/churn/notifications").json()["items"] == []
