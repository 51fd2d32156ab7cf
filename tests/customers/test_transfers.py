"""在职继承 / 离职继承 with the real twin: per-customer results, the 90-day limit (ours and WeCom's),
status polling after the twin's 24 h, counters kept right however the news arrives, roles and
brands on every page and endpoint."""

from __future__ import annotations

import pytest
from django.utils import translation

from siyu.accounts.models import StaffAccount
from siyu.core.models import AuditEntry, EventRecord
from siyu.core.permissions import Role
from siyu.customers import services
from siyu.customers.churn.tasks import poll_waiting_transfers, poll_waiting_transfers_brand
from siyu.customers.models import (
    Customer,
    CustomerTransfer,
    DeletedBy,
    FollowRelation,
    TimelineEntry,
    TransferStatus,
)
from siyu.customers.services import transfers
from siyu.customers.timeline import TimelineKind
from tests.conftest import seat
from tests.customers.conftest import at, connect
from tests.support.jobs import run_queued

DAY = 24 * 3600
A, B = "xiaowanzi01", "xiaowanzi02"


@pytest.fixture
def brand(brand_a, twin):
    from siyu.accounts.services import account_for_userid

    connect(brand_a.workspace, twin)
    for userid in (A, B):
        account_for_userid(brand_a.workspace, userid)  # as the staff sync leaves them
    return brand_a


def customers(brand, twin, *externals, staff=A) -> list[Customer]:
    """Customers who added `staff`, at WeCom (the twin) and in our records."""
    found = []
    for ext in externals:
        twin.admin.post("/twin/customers/add", json={"external_userid": ext, "name": ext, "staff_userid": staff,
                                                     "welcome": False}).raise_for_status()
        found.append(services.record_add(brand.workspace, staff_userid=staff, external_userid=ext, state="chstore",
                                         at=at(3600)).customer)
    return found


def account(brand, userid) -> StaffAccount:
    return StaffAccount.objects.for_workspace(brand.workspace).get(userid=userid)


def ops(brand, role=Role.CUSTOMER_OPS):
    return seat(brand.members[role], brand.workspace)


def move(brand, who, frm=A, to=B, **kwargs) -> transfers.TransferRequest:
    return transfers.request_transfer(brand.workspace, ops(brand), account(brand, frm).pk, account(brand, to).pk,
                                      [c.pk for c in who], **kwargs)


def test_an_on_job_transfer_is_waiting_then_done_after_24_hours(brand, twin):
    ws = brand.workspace
    who = customers(brand, twin, "wmA", "wmB")
    services.record_add(ws, staff_userid=B, external_userid="wmSEED", state="", at=at(7200))  # B has a friend
    result = move(brand, who, message="你好,我是新的顾问")
    assert [r.status for r in result.results] == [TransferStatus.WAITING] * 2 and result.accepted == 2
    assert TimelineEntry.objects.for_workspace(ws).filter(kind=TimelineKind.TRANSFER_REQUESTED).count() == 2
    assert AuditEntry.objects.for_workspace(ws).filter(action=transfers.AUDIT_ACTION).count() == 1

    twin.advance(DAY - 60)
    assert transfers.poll_transfers(ws).done == 0
    assert set(CustomerTransfer.objects.for_workspace(ws).values_list("status", flat=True)) == {TransferStatus.WAITING}

    twin.advance(120)
    report = transfers.poll_transfers(ws)
    assert (report.checked, report.done) == (2, 2)
    rows = CustomerTransfer.objects.for_workspace(ws)
    assert all(r.status == TransferStatus.DONE and r.takeover_at is not None for r in rows)
    moved = FollowRelation.objects.for_workspace(ws).filter(customer__in=who)
    assert {(f.account.userid, f.active, f.deleted_by) for f in moved} == {(A, False, DeletedBy.TRANSFER), (B, True, "")}
    assert (account(brand, A).friend_count, account(brand, B).friend_count) == (0, 3)
    assert EventRecord.objects.for_workspace(ws).filter(name="customers.changed", payload__reason="transfer").exists()

    # polling again, and WeCom's del (DELETE_BY_TRANSFER) callback arriving late, change nothing
    assert transfers.poll_transfers(ws).done == 0
    taken = rows.first()
    services.record_loss(ws, staff_userid=A, external_userid=taken.customer.external_userid, at=taken.takeover_at,
                         by=DeletedBy.TRANSFER)
    services.record_add(ws, staff_userid=B, external_userid=taken.customer.external_userid, state="",
                        at=taken.takeover_at)
    assert (account(brand, A).friend_count, account(brand, B).friend_count) == (0, 3)
    assert TimelineEntry.objects.for_workspace(ws).filter(kind=TimelineKind.TRANSFERRED).count() == 2


def test_the_scheduled_poll_settles_waiting_transfers_of_every_brand(transactional_db, brand, twin):
    who = customers(brand, twin, "wmA")
    move(brand, who)
    twin.advance(DAY + 1)
    assert poll_waiting_transfers.call() == 1  # one task per brand with waiting transfers
    [totals] = run_queued(poll_waiting_transfers_brand)
    assert (totals["done"], totals["errors"]) == (1, 0)
    assert CustomerTransfer.objects.for_workspace(brand.workspace).get().status == TransferStatus.DONE


def test_a_refused_transfer_keeps_the_customer_with_the_handover(brand, twin):
    ws = brand.workspace
    who = customers(brand, twin, "wmA")
    move(brand, who)
    twin.admin.post("/twin/transfers/refuse", json={"external_userid": "wmA"}).raise_for_status()
    assert transfers.poll_transfers(ws).failed == 1
    assert CustomerTransfer.objects.for_workspace(ws).get().status == TransferStatus.REFUSED
    assert FollowRelation.objects.for_workspace(ws).get(customer=who[0]).active


def test_a_full_takeover_account_is_reported(brand, twin):
    twin.add_staff(B, capacity=1)
    customers(brand, twin, "wmFULL", staff=B)
    who = customers(brand, twin, "wmA")
    move(brand, who)
    twin.advance(DAY + 1)
    transfers.poll_transfers(brand.workspace)
    assert CustomerTransfer.objects.for_workspace(brand.workspace).get().status == TransferStatus.FULL


def test_a_customer_moved_twice_in_90_days_is_refused_locally_without_calling_wecom(brand, twin):
    from siyu.wecom.models import ApiCall

    ws = brand.workspace
    who = customers(brand, twin, "wmA")
    move(brand, who)
    twin.advance(DAY + 1)
    transfers.poll_transfers(ws)
    move(brand, who, frm=B, to=A)
    twin.advance(DAY + 1)
    transfers.poll_transfers(ws)
    calls = ApiCall.objects.for_workspace(ws).filter(endpoint="externalcontact/transfer_customer").count()
    with translation.override("en"):
        [third] = move(brand, who).results
    assert (third.status, third.errcode) == (TransferStatus.REJECTED, 0)
    assert "twice in the last 90 days" in third.note
    assert ApiCall.objects.for_workspace(ws).filter(endpoint="externalcontact/transfer_customer").count() == calls


def test_wecoms_own_limit_errcode_is_recorded_per_customer(brand, twin):
    ws = brand.workspace
    who = customers(brand, twin, "wmA", "wmB")
    # wmA was moved twice at WeCom outside Siyu (e.g. in the WeCom admin): we hold no history of it
    for frm, to in ((A, B), (B, A)):
        answer = twin.api("externalcontact/transfer_customer",
                          {"handover_userid": frm, "takeover_userid": to, "external_userid": ["wmA"]})
        assert answer["customer"][0]["errcode"] == 0
        twin.advance(DAY + 1)
    result = move(brand, who)
    by_ext = {r.customer.external_userid: r for r in result.results}
    assert (by_ext["wmA"].status, by_ext["wmA"].errcode) == (TransferStatus.REJECTED, 40128)
    assert by_ext["wmB"].status == TransferStatus.WAITING
    row = CustomerTransfer.objects.for_workspace(ws).get(customer__external_userid="wmA")
    assert (row.status, row.errcode) == (TransferStatus.REJECTED, 40128)


def test_bad_requests_are_explained_on_their_fields(brand, twin):
    who = customers(brand, twin, "wmA")
    with pytest.raises(Exception) as same:
        move(brand, who, frm=A, to=A)
    assert "takeover" in same.value.message_dict
    with pytest.raises(Exception) as none:
        move(brand, [])
    assert "customer_ids" in none.value.message_dict
    stranger = customers(brand, twin, "wmOTHER", staff=B)
    [result] = move(brand, stranger).results  # follows B, not A
    assert result.status == TransferStatus.REJECTED


def test_resigned_staff_customers_are_listed_and_inherited(brand, twin):
    ws = brand.workspace
    who = customers(brand, twin, "wmA", "wmB")
    services.record_add(ws, staff_userid=B, external_userid="wmSEED", state="", at=at(7200))
    twin.admin.post("/twin/staff/resign", json={"userid": A}).raise_for_status()
    StaffAccount.objects.for_workspace(ws).filter(userid=A).update(active=False)
    me = ops(brand)
    pending = transfers.unassigned_customers(ws, me)
    assert {(u.handover_userid, u.customer.pk) for u in pending} == {(A, c.pk) for c in who}
    with pytest.raises(Exception) as onjob:
        move(brand, who)  # an on-job transfer from someone who left is refused
    assert "handover" in onjob.value.message_dict
    result = transfers.transfer_unassigned(ws, me, account(brand, A).pk, account(brand, B).pk)
    assert result.resigned and result.accepted == 2
    assert transfers.unassigned_customers(ws, me) == []  # waiting transfers are no longer unassigned
    twin.advance(DAY + 1)
    assert transfers.poll_transfers(ws).done == 2
    assert all(r.resigned and r.status == TransferStatus.DONE for r in CustomerTransfer.objects.for_workspace(ws))
    assert account(brand, B).friend_count == 3


# --- pages and API --------------------------------------------------------------------------------

def test_the_transfer_page_moves_chosen_customers_and_shows_results(brand, twin, login):
    who = customers(brand, twin, "wmA", "wmB")
    services.record_add(brand.workspace, staff_userid=B, external_userid="wmSEED", state="", at=at(7200))
    client = login(brand.members[Role.CUSTOMER_OPS])
    html = client.get(f"/customers/transfers/?handover={account(brand, A).pk}").content.decode()
    assert 'data-testid="handover-customers"' in html and "wmA" in html and "wmB" in html
    response = client.post("/customers/transfers/request/", {
        "handover": account(brand, A).pk, "takeover": account(brand, B).pk, "customer": [who[0].pk]})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="transfer-results"' in html and 'data-status="waiting"' in html
    history = client.get("/customers/transfers/?status=waiting").content.decode()
    assert history.count('data-status="waiting"') == 1
    twin.advance(DAY + 1)
    assert client.post("/customers/transfers/check/").status_code == 302
    assert CustomerTransfer.objects.for_workspace(brand.workspace).get().status == TransferStatus.DONE


def test_the_transfer_form_explains_its_errors(brand, twin, login):
    customers(brand, twin, "wmA")
    client = login(brand.members[Role.OPS_LEAD])
    with translation.override("en"):
        response = client.post("/customers/transfers/request/", {"handover": account(brand, A).pk, "takeover": ""})
    assert response.status_code == 422
    html = response.content.decode()
    assert "请选择本品牌的企微号。" in html and "请至少选择一位客户。" in html  # the console speaks Chinese


def test_roles_without_edit_may_look_but_not_transfer(brand, twin, login):
    who = customers(brand, twin, "wmA")
    analyst = login(brand.members[Role.DATA_ANALYST])
    page = analyst.get("/customers/transfers/")
    assert page.status_code == 200 and 'data-testid="check-now"' not in page.content.decode()
    body = {"handover": account(brand, A).pk, "takeover": account(brand, B).pk, "customer": [who[0].pk]}
    assert analyst.post("/customers/transfers/request/", body).status_code == 403
    assert analyst.post("/customers/transfers/check/").status_code == 403
    api = {"handover_account_id": account(brand, A).pk, "takeover_account_id": account(brand, B).pk,
           "customer_ids": [who[0].pk]}
    assert analyst.post("/api/churn/transfers", api, content_type="application/json").status_code == 403
    copywriter = login(brand.members[Role.COPYWRITER])
    assert copywriter.get("/customers/transfers/").status_code == 403
    assert copywriter.get("/api/churn/transfers").status_code == 403
    assert CustomerTransfer.objects.for_workspace(brand.workspace).count() == 0
    assert 'data-testid="check-now"' in login(brand.members[Role.CUSTOMER_OPS]).get("/customers/transfers/").content.decode()


def test_another_brand_cannot_see_or_move_the_customers(brand, twin, brand_b, login):
    who = customers(brand, twin, "wmA")
    move(brand, who)
    client = login(brand_b.admin)
    html = client.get(f"/customers/transfers/?handover={account(brand, A).pk}").content.decode()
    assert "wmA" not in html
    response = client.post("/customers/transfers/request/", {
        "handover": account(brand, A).pk, "takeover": account(brand, B).pk, "customer": [who[0].pk]})
    assert response.status_code == 422
    api = {"handover_account_id": account(brand, A).pk, "takeover_account_id": account(brand, B).pk,
           "customer_ids": [who[0].pk]}
    assert client.post("/api/churn/transfers", api, content_type="application/json").status_code == 422
    assert client.get("/api/churn/transfers").json() == {"items": [], "count": 0}
    assert CustomerTransfer.objects.for_workspace(brand.workspace).count() == 1


def test_the_api_requests_lists_and_checks_transfers(brand, twin, login):
    who = customers(brand, twin, "wmA")
    client = login(brand.members[Role.CUSTOMER_OPS])
    api = {"handover_account_id": account(brand, A).pk, "takeover_account_id": account(brand, B).pk,
           "customer_ids": [who[0].pk]}
    data = client.post("/api/churn/transfers", api, content_type="application/json").json()
    assert (data["accepted"], data["results"][0]["status"]) == (1, "waiting")
    twin.advance(DAY + 1)
    assert client.post("/api/churn/transfers/check").json()["done"] == 1
    [row] = client.get("/api/churn/transfers?status=done").json()["items"]
    assert (row["customer_id"], row["status"]) == (who[0].pk, "done")


def test_the_page_lists_staff_who_left_and_inherits_their_unassigned_customers(brand, twin, login):
    ws = brand.workspace
    customers(brand, twin, "wmA", "wmB")
    twin.admin.post("/twin/staff/resign", json={"userid": A}).raise_for_status()
    StaffAccount.objects.for_workspace(ws).filter(userid=A).update(active=False)
    client = login(brand.members[Role.OPS_LEAD])
    html = client.get("/customers/transfers/").content.decode()
    assert A in html.split('data-testid="resigned"')[1]
    response = client.post("/customers/transfers/unassigned/", {"handover": account(brand, A).pk,
                                                                "takeover": account(brand, B).pk})
    assert response.status_code == 200 and response.content.decode().count('data-status="waiting"') == 2
    assert all(t.resigned for t in CustomerTransfer.objects.for_workspace(ws))
    # the resigned account cannot take customers over
    with translation.override("en"):
        response = client.post("/customers/transfers/unassigned/", {"handover": account(brand, B).pk,
                                                                    "takeover": account(brand, A).pk}, follow=True)
    assert "已离职,不能接替客户。" in response.content.decode()


def test_wecoms_transfer_fail_callback_settles_the_transfer_before_the_poll(transactional_db, brand, twin):
    from siyu.core import events
    from siyu.wecom.events import TransferFailed
    from tests.customers.conftest import drain

    ws = brand.workspace
    who = customers(brand, twin, "wmA", "wmB")
    move(brand, who)
    for ext, reason in (("wmA", "customer_refused"), ("wmB", "customer_limit_exceed")):
        failed = TransferFailed(occurred_at=at(), staff_userid=B, external_userid=ext, fail_reason=reason)
        events.publish(ws, failed, dedupe_key=f"fail:{ext}")
    drain()
    statuses = dict(CustomerTransfer.objects.for_workspace(ws).values_list("customer__external_userid", "status"))
    assert statuses == {"wmA": TransferStatus.REFUSED, "wmB": TransferStatus.FULL}
    assert transfers.poll_transfers(ws).checked == 0  # nothing left waiting
