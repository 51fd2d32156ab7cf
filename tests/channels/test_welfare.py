"""加号福利 services: create, upload codes with a row-level report, issue once per customer from
a limited stock (also under concurrency), redeem once; roles."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone, translation

from siyu.channels.models import Welfare, WelfareCode, WelfareGrant
from siyu.channels.services import welfare as svc
from siyu.channels.timeline import ChannelTimeline
from siyu.customers.models import Customer, TimelineEntry
from tests.conftest import seat
from tests.support.spreadsheets import xlsx, xlsx_with_sheet


@pytest.fixture(autouse=True)
def _english():
    """These tests read the services' reasons in English; the console's default is Chinese."""
    with translation.override("en"):
        yield

def planner(brand):
    return seat(brand.members["planner"], brand.workspace)


def coupon(brand, codes=(), **fields) -> Welfare:
    welfare = svc.create_welfare(brand.workspace, planner(brand),
                                 svc.WelfareInput(name=fields.pop("name", "新客券"), kind="coupon", **fields))
    if codes:
        svc.upload_codes(brand.workspace, planner(brand), welfare.pk, text="\n".join(codes))
    return welfare


def customer(brand, external="wmA") -> Customer:
    return Customer.objects.create(workspace=brand.workspace, external_userid=external)


def issue(brand, welfare, who):
    return svc.issue_welfare(brand.workspace, welfare, who, None, None)


# --- creating ---------------------------------------------------------------------------------

def test_a_gift_needs_a_description_and_a_coupon_takes_no_stock_number(brand_a):
    with pytest.raises(ValidationError) as gift:
        svc.create_welfare(brand_a.workspace, planner(brand_a), svc.WelfareInput(name="赠品", kind="gift"))
    assert "description" in gift.value.message_dict
    with pytest.raises(ValidationError) as bad_coupon:
        svc.create_welfare(brand_a.workspace, planner(brand_a), svc.WelfareInput(name="券", kind="coupon", stock=10))
    assert "stock" in bad_coupon.value.message_dict
    assert not Welfare.objects.for_workspace(brand_a.workspace).exists()


def test_a_welfare_name_is_unique_in_the_brand(brand_a, brand_b):
    coupon(brand_a)
    with pytest.raises(ValidationError) as dup:
        coupon(brand_a)
    assert "name" in dup.value.message_dict
    coupon(brand_b)  # another brand may use the same name


def test_a_copywriter_may_see_welfare_but_not_create_upload_or_redeem(brand_a):
    welfare = coupon(brand_a, ["C1"])
    grant = issue(brand_a, welfare, customer(brand_a))
    copywriter = seat(brand_a.members["copywriter"], brand_a.workspace)
    assert [r.welfare.name for r in svc.list_welfare(brand_a.workspace, copywriter)] == ["新客券"]
    with pytest.raises(PermissionDenied):
        svc.create_welfare(brand_a.workspace, copywriter, svc.WelfareInput(name="x", kind="coupon"))
    with pytest.raises(PermissionDenied):
        svc.upload_codes(brand_a.workspace, copywriter, welfare.pk, text="C2")
    with pytest.raises(PermissionDenied):
        svc.redeem(brand_a.workspace, copywriter, grant.pk)
    merchandiser = seat(brand_a.members["merchandiser"], brand_a.workspace)
    with pytest.raises(PermissionDenied):
        svc.list_welfare(brand_a.workspace, merchandiser)


# --- uploading --------------------------------------------------------------------------------

def test_a_pasted_list_adds_the_good_codes_and_reports_each_bad_row(brand_a):
    welfare = coupon(brand_a, ["OLD-1"])
    report = svc.upload_codes(brand_a.workspace, planner(brand_a), welfare.pk,
                              text="NEW-1\n\n  NEW-2  \nNEW-1\nOLD-1\n" + "X" * 65)
    assert report.added == 2
    assert report.rows == [(2, "", "blank"), (4, "NEW-1", "duplicate of row 1"), (5, "OLD-1", "already in the pool"),
                           (6, "X" * 65, "longer than 64 characters")]
    pool = set(WelfareCode.objects.for_workspace(brand_a.workspace).values_list("code", flat=True))
    assert pool == {"OLD-1", "NEW-1", "NEW-2"}


def test_codes_upload_from_a_csv_with_a_header_and_from_an_xlsx(brand_a):
    welfare = coupon(brand_a)
    csv_file = SimpleUploadedFile("codes.csv", "券码,备注\nCSV-1,a\nCSV-2,b\n".encode())
    report = svc.upload_codes(brand_a.workspace, planner(brand_a), welfare.pk, file=csv_file)
    assert (report.added, report.rows) == (2, [(1, "券码", "header row")])
    data = xlsx([["XL-1"], [None], [12345], ["CSV-1"]])
    report = svc.upload_codes(brand_a.workspace, planner(brand_a), welfare.pk,
                              file=SimpleUploadedFile("codes.xlsx", data))
    assert report.added == 2 and report.rows == [(2, "", "blank"), (4, "CSV-1", "already in the pool")]
    assert WelfareCode.objects.for_workspace(brand_a.workspace).filter(code="12345").exists()


def test_an_unreadable_or_empty_upload_is_refused_and_adds_nothing(brand_a):
    welfare = coupon(brand_a)
    for upload in [SimpleUploadedFile("codes.xlsx", b"not a workbook"), SimpleUploadedFile("codes.pdf", b"%PDF"),
                   SimpleUploadedFile("codes.txt", b"\n \n")]:
        with pytest.raises(ValidationError):
            svc.upload_codes(brand_a.workspace, planner(brand_a), welfare.pk, file=upload)
    assert not WelfareCode.objects.for_workspace(brand_a.workspace).exists()


def test_a_file_past_the_row_limit_is_refused_on_the_file_and_adds_nothing(brand_a):
    welfare = coupon(brand_a)
    rows = "".join(f"C{i}\n" for i in range(svc.UPLOAD_MAX_ROWS + 1)).encode()
    with pytest.raises(ValidationError) as refused:
        svc.upload_codes(brand_a.workspace, planner(brand_a), welfare.pk, file=SimpleUploadedFile("codes.csv", rows))
    assert "more than 50,000 rows" in refused.value.message_dict["file"][0]
    assert not WelfareCode.objects.for_workspace(brand_a.workspace).exists()


def test_a_code_with_a_control_character_is_reported_not_stored(brand_a):
    welfare = coupon(brand_a)
    report = svc.upload_codes(brand_a.workspace, planner(brand_a), welfare.pk,
                              file=SimpleUploadedFile("codes.csv", b"OK-1\nA\x00B\nC\x07D\n"))
    assert report.added == 1
    assert report.rows == [(2, "A?B", "contains a control character"), (3, "C?D", "contains a control character")]


def test_a_bomb_workbook_is_refused_on_the_file(brand_a):
    welfare = coupon(brand_a)
    bomb = xlsx_with_sheet(b'<row><c t="n"><v>12345678</v></c></row>' * 1_400_000)
    with pytest.raises(ValidationError) as refused:
        svc.upload_codes(brand_a.workspace, planner(brand_a), welfare.pk, file=SimpleUploadedFile("codes.xlsx", bomb))
    assert "unpacks to more than 8 MB" in refused.value.message_dict["file"][0]


def test_only_a_coupon_has_codes_to_upload(brand_a):
    gift = svc.create_welfare(brand_a.workspace, planner(brand_a),
                              svc.WelfareInput(name="赠品", kind="gift", description="小样一份", stock=2))
    with pytest.raises(ValidationError):
        svc.upload_codes(brand_a.workspace, planner(brand_a), gift.pk, text="C1")


# --- issuing ----------------------------------------------------------------------------------

def test_a_customer_gets_a_welfare_once_and_the_same_code_again(brand_a):
    welfare = coupon(brand_a, ["C1", "C2"])
    who = customer(brand_a)
    first, second = issue(brand_a, welfare, who), issue(brand_a, welfare, who)
    assert first.pk == second.pk and second.code.code == "C1"
    assert WelfareGrant.objects.for_workspace(brand_a.workspace).count() == 1
    assert WelfareCode.objects.for_workspace(brand_a.workspace).filter(issued_at__isnull=True).count() == 1


def test_stock_runs_out_cleanly(brand_a):
    gift = svc.create_welfare(brand_a.workspace, planner(brand_a),
                              svc.WelfareInput(name="赠品", kind="gift", description="小样一份", stock=2))
    grants = [issue(brand_a, gift, customer(brand_a, f"wm{i}")) for i in range(3)]
    assert [g is not None for g in grants] == [True, True, False]
    outcome = svc.try_issue_welfare(brand_a.workspace, gift, customer(brand_a, "wmLATE"), None, None)
    assert outcome.grant is None and "out of stock" in outcome.reason
    gift.refresh_from_db()
    assert gift.issued == 2
    row = svc.welfare_row(brand_a.workspace, planner(brand_a), gift.pk)
    assert (row.stock, row.issued) == (0, 2)


def test_welfare_outside_its_time_window_is_not_issued(brand_a):
    welfare = coupon(brand_a, ["C1"], ends_at=timezone.now() - dt.timedelta(days=1),
                     starts_at=timezone.now() - dt.timedelta(days=9))
    outcome = svc.try_issue_welfare(brand_a.workspace, welfare, customer(brand_a), None, None)
    assert outcome.grant is None and "time window" in outcome.reason


def test_concurrent_issues_take_distinct_codes_and_stop_at_the_stock(transactional_db, brand_a):
    welfare = coupon(brand_a, [f"C{i}" for i in range(5)])
    people = [customer(brand_a, f"wm{i}") for i in range(8)]
    results: list = []
    barrier = threading.Barrier(len(people))

    def worker(who):
        try:
            barrier.wait()
            results.append(issue(brand_a, welfare, who))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    granted = [g for g in results if g is not None]
    assert len(results) == 8 and len(granted) == 5
    assert sorted(g.code.code for g in granted) == [f"C{i}" for i in range(5)]
    assert WelfareGrant.objects.for_workspace(brand_a.workspace).count() == 5


def test_concurrent_issues_to_one_customer_grant_once(transactional_db, brand_a):
    welfare = coupon(brand_a, [f"C{i}" for i in range(5)])
    who = customer(brand_a)
    results: list = []
    barrier = threading.Barrier(4)

    def worker():
        try:
            barrier.wait()
            results.append(issue(brand_a, welfare, who))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({g.pk for g in results}) == 1
    assert WelfareCode.objects.for_workspace(brand_a.workspace).filter(issued_at__isnull=False).count() == 1


# --- redeeming --------------------------------------------------------------------------------

def test_a_grant_is_redeemed_once(brand_a):
    grant = issue(brand_a, coupon(brand_a, ["C1"]), customer(brand_a))
    redeemed = svc.redeem(brand_a.workspace, planner(brand_a), grant.pk, "门店核销")
    assert redeemed.redeemed_at is not None and redeemed.redeemed_note == "门店核销"
    with pytest.raises(ValidationError, match="Already redeemed"):
        svc.redeem(brand_a.workspace, planner(brand_a), grant.pk, "again")
    redeemed.refresh_from_db()
    assert redeemed.redeemed_note == "门店核销"
    assert TimelineEntry.objects.for_workspace(brand_a.workspace).filter(kind=ChannelTimeline.WELFARE_REDEEMED).count() == 1
    engaged = Customer.objects.for_workspace(brand_a.workspace).get(pk=redeemed.customer_id).last_engaged_at
    assert engaged == redeemed.redeemed_at  # redeeming is the customer's own action


def test_another_brands_grant_cannot_be_redeemed(brand_a, brand_b):
    grant = issue(brand_a, coupon(brand_a, ["C1"]), customer(brand_a))
    with pytest.raises(WelfareGrant.DoesNotExist):
        svc.redeem(brand_b.workspace, planner(brand_b), grant.pk)
    grant.refresh_from_db()
    assert grant.redeemed_at is None
