"""流失: a customer deleting a staff account alerts the account's operator and the ops leads once,
lands on the timeline, and shows on the churn list with its reason, stay and whether the customer
came back; pages and API respect roles and brands."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone, translation

from siyu.accounts.events import CapacityAlert
from siyu.accounts.models import StaffAccount
from siyu.core import events
from siyu.core.events import retry_run
from siyu.core.models import Notification, SubscriberRun
from siyu.core.permissions import Role
from siyu.customers import services
from siyu.customers.churn.subscribers import CHURN_KIND
from siyu.customers.models import Customer, DeletedBy, TimelineEntry
from siyu.customers.services import churn
from siyu.customers.timeline import TimelineKind
from tests.conftest import seat
from tests.customers.conftest import added, at, churned, drain, publish, staff_deleted


def run_by(brand, userid="xiaowanzi01", role=Role.CUSTOMER_OPS):
    account = services.record_add(brand.workspace, staff_userid=userid, external_userid="wmSEED" + userid,
                                  state="", at=at(9000)).account
    operator = seat(brand.members[role], brand.workspace)
    StaffAccount.objects.for_workspace(brand.workspace).filter(pk=account.pk).update(operator=operator)
    return operator


def notices(workspace, kind=CHURN_KIND):
    return list(Notification.objects.for_workspace(workspace).filter(kind=kind).select_related("membership"))


def test_churn_alerts_the_operator_and_the_ops_lead_once_even_on_replay(transactional_db, brand_a):
    ws = brand_a.workspace
    operator = run_by(brand_a)
    publish(ws, added(at(600)))
    drain()
    Customer.objects.for_workspace(ws).filter(external_userid="wmCUST01").update(name="小红")
    event = churned(at(60))
    publish(ws, event)
    drain()
    for run in SubscriberRun.objects.for_workspace(ws).filter(event__name="customers.follow_ended"):
        retry_run(run)  # the alert runs a second time
    publish(ws, event)  # and the callback is published again
    drain()
    sent = notices(ws)
    assert sorted(n.membership.role for n in sent) == [Role.CUSTOMER_OPS, Role.OPS_LEAD]
    assert {n.membership_id for n in sent} >= {operator.pk}
    customer = Customer.objects.for_workspace(ws).get(external_userid="wmCUST01")
    assert all(n.url == f"/customers/{customer.pk}/" and "小红" in n.shown_title for n in sent)
    assert TimelineEntry.objects.for_workspace(ws).filter(kind=TimelineKind.CHURN, customer=customer).count() == 1


def test_staff_deletions_and_transfers_are_not_churn_alerts(transactional_db, brand_a):
    ws = brand_a.workspace
    run_by(brand_a)
    publish(ws, added(at(600), external="wmA"))
    publish(ws, added(at(600), external="wmB"))
    drain()
    publish(ws, staff_deleted(at(60), external="wmA"))
    publish(ws, staff_deleted(at(60), external="wmB", source="DELETE_BY_TRANSFER"))
    drain()
    assert notices(ws) == []


def test_without_an_ops_lead_the_admins_hear_of_churn(transactional_db, brand_a):
    ws = brand_a.workspace
    seat(brand_a.members[Role.OPS_LEAD], ws).delete()
    publish(ws, added(at(600)))
    publish(ws, churned(at(60)))
    drain()
    assert [n.membership.role for n in notices(ws)] == [Role.ADMIN]  # no operator set: leads only


def test_a_capacity_alert_reaches_the_operator_and_ops_lead(transactional_db, brand_a):
    ws = brand_a.workspace
    run_by(brand_a)
    account = StaffAccount.objects.for_workspace(ws).get(userid="xiaowanzi01")
    alert = CapacityAlert(account_id=account.pk, userid=account.userid, level=80, friend_count=4000, friend_limit=5000)
    events.publish(ws, alert, dedupe_key="cap:1")
    events.publish(ws, alert, dedupe_key="cap:1")
    drain()
    sent = notices(ws, kind="accounts.capacity")
    assert sorted(n.membership.role for n in sent) == [Role.CUSTOMER_OPS, Role.OPS_LEAD]
    assert all("80" in n.shown_title for n in sent)


def test_an_alert_reads_in_the_language_of_the_member_who_opens_it(transactional_db, brand_a, login):
    ws = brand_a.workspace
    run_by(brand_a)
    publish(ws, added(at(600)))
    drain()
    Customer.objects.for_workspace(ws).filter(external_userid="wmCUST01").update(name="小红")
    publish(ws, churned(at(60)))
    drain()
    client = login(brand_a.members[Role.OPS_LEAD])
    assert "小红 删除了" in client.get("/notifications/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/notifications/"})
    page = client.get("/notifications/").content.decode()
    assert "小红 deleted" in page and "A customer deleted the staff account" in page


# --- the churn list -------------------------------------------------------------------------------

def churn_story(brand):
    """wmBACK churns and comes back; wmGONE churns for good after 10 days; wmKICK is deleted by staff;
    wmMULTI leaves xiaowanzi01 but still follows xiaowanzi02."""
    ws = brand.workspace
    add = lambda ext, ago, staff="xiaowanzi01": services.record_add(  # noqa: E731
        ws, staff_userid=staff, external_userid=ext, state="chstore", at=at(ago))
    lose = lambda ext, ago, by=DeletedBy.CUSTOMER, staff="xiaowanzi01": services.record_loss(  # noqa: E731
        ws, staff_userid=staff, external_userid=ext, at=at(ago), by=by)
    day = 24 * 3600
    add("wmBACK", 5 * day)
    lose("wmBACK", 4 * day)
    add("wmBACK", 3 * day)
    add("wmGONE", 12 * day)
    lose("wmGONE", 2 * day)
    add("wmKICK", 3 * day)
    lose("wmKICK", 1 * day, by=DeletedBy.STAFF)
    add("wmMULTI", 6 * day, staff="xiaowanzi02")
    add("wmMULTI", 5 * day)
    lose("wmMULTI", 1 * day)


def test_the_churn_list_shows_reason_stay_and_returned_customers(brand_a):
    churn_story(brand_a)
    ws, me = brand_a.workspace, seat(brand_a.members[Role.DATA_ANALYST], brand_a.workspace)
    page = churn.churn_list(ws, me, churn.ChurnFilter())
    rows = {r.customer.external_userid: r for r in page.rows}
    assert set(rows) == {"wmBACK", "wmGONE", "wmMULTI"}  # customer deletions only, by default
    assert rows["wmBACK"].returned and [a.userid for a in rows["wmBACK"].returned_to] == ["xiaowanzi01"]
    assert not rows["wmGONE"].returned and rows["wmGONE"].stayed_days == 10 and rows["wmGONE"].state == "chstore"
    assert not rows["wmMULTI"].returned and rows["wmMULTI"].still_follows
    assert Customer.objects.for_workspace(ws).filter(external_userid="wmBACK").count() == 1  # one person
    staff = churn.churn_list(ws, me, churn.ChurnFilter(reasons=(DeletedBy.STAFF,)))
    assert [(r.customer.external_userid, r.reason) for r in staff.rows] == [("wmKICK", "staff")]


def test_churn_figures_per_account_count_lost_and_returned(brand_a):
    churn_story(brand_a)
    ws, me = brand_a.workspace, seat(brand_a.admin, brand_a.workspace)
    [figures] = churn.churn_by_account(ws, me, churn.ChurnFilter())
    assert (figures.account.userid, figures.lost, figures.returned) == ("xiaowanzi01", 3, 1)
    account = figures.account
    other = StaffAccount.objects.for_workspace(ws).get(userid="xiaowanzi02")
    assert churn.churn_by_account(ws, me, churn.ChurnFilter(account_id=other.pk)) == []
    assert len(churn.churn_list(ws, me, churn.ChurnFilter(account_id=account.pk)).rows) == 3


def test_the_date_range_limits_the_list(brand_a):
    churn_story(brand_a)
    ws, me = brand_a.workspace, seat(brand_a.admin, brand_a.workspace)
    today = timezone.localdate()
    flt = churn.ChurnFilter(start=today - dt.timedelta(days=60), end=today - dt.timedelta(days=3))
    assert {r.customer.external_userid for r in churn.churn_list(ws, me, flt).rows} == {"wmBACK"}


def test_the_churn_page_lists_and_filters(brand_a, login):
    churn_story(brand_a)
    client = login(brand_a.members[Role.CUSTOMER_OPS])
    with translation.override("en"):
        html = client.get("/customers/churn/").content.decode()
    assert 'data-testid="churn"' in html and "wmGONE" in html and "wmKICK" not in html
    assert 'data-testid="returned"' in html
    html = client.get("/customers/churn/?reason=staff").content.decode()
    assert "wmKICK" in html and "wmGONE" not in html
    assert client.get("/customers/churn/?start=2026-02-01&end=2026-01-01").status_code == 200


def test_the_churn_page_and_api_refuse_roles_without_customers(brand_a, login):
    churn_story(brand_a)
    client = login(brand_a.members[Role.COPYWRITER])
    assert client.get("/customers/churn/").status_code == 403
    assert client.get("/api/churn/").status_code == 403
    assert client.get("/api/churn/by-account").status_code == 403


def test_another_brand_sees_none_of_the_churn(brand_a, brand_b, login):
    churn_story(brand_a)
    client = login(brand_b.admin)
    assert "wmGONE" not in client.get("/customers/churn/").content.decode()
    assert client.get("/api/churn/").json()["items"] == []
    assert client.get("/api/churn/by-account").json() == []


def test_the_api_lists_churn_with_returned(brand_a, login):
    churn_story(brand_a)
    client = login(brand_a.members[Role.OPS_LEAD])
    data = client.get("/api/churn/").json()
    rows = {r["external_userid"]: r for r in data["items"]}
    assert rows["wmBACK"]["returned"] is True and rows["wmGONE"]["stayed_days"] == 10
    assert data["has_next"] is False
    both = client.get("/api/churn/?reason=customer&reason=staff").json()["items"]
    assert {r["reason"] for r in both} == {"customer", "staff"}
    assert client.get("/api/churn/by-account").json()[0]["lost"] == 3


def test_the_account_page_sets_who_runs_the_account_and_refuses_another_brands_member(brand_a, brand_b, login):
    ws = brand_a.workspace
    account = services.record_add(ws, staff_userid="xiaowanzi01", external_userid="wmA", state="", at=at(60)).account
    mine, stranger = seat(brand_a.members[Role.CUSTOMER_OPS], ws), seat(brand_b.admin, brand_b.workspace)
    client = login(brand_a.members[Role.OPS_LEAD])
    assert f'value="{mine.pk}"' in client.get(f"/accounts/{account.pk}/edit/").content.decode()
    with translation.override("en"):
        refused = client.post(f"/accounts/{account.pk}/edit/", {"friend_limit": 5000, "operator": stranger.pk})
    assert refused.status_code == 200 and "请选择本品牌的成员。" in refused.content.decode()
    assert client.post(f"/accounts/{account.pk}/edit/", {"friend_limit": 5000, "operator": mine.pk}).status_code == 302
    assert StaffAccount.objects.for_workspace(ws).get(pk=account.pk).operator_id == mine.pk


def test_the_churn_list_pages_without_counting(brand_a, monkeypatch):
    ws, me = brand_a.workspace, seat(brand_a.admin, brand_a.workspace)
    monkeypatch.setattr(churn, "PAGE_SIZE", 2)
    base = at(0)  # one clock reading: a second ticking over mid-loop must not tie two losses
    for i in range(5):
        services.record_add(ws, staff_userid="xiaowanzi01", external_userid=f"wm{i}", state="",
                            at=base - dt.timedelta(seconds=600 + i))
        services.record_loss(ws, staff_userid="xiaowanzi01", external_userid=f"wm{i}",
                             at=base - dt.timedelta(seconds=60 + i), by=DeletedBy.CUSTOMER)
    pages = [churn.churn_list(ws, me, churn.ChurnFilter(), n) for n in (1, 2, 3)]
    assert [p.has_next for p in pages] == [True, True, False]
    assert [r.customer.external_userid for p in pages for r in p.rows] == [f"wm{i}" for i in range(5)]
