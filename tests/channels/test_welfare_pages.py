"""加号福利 pages: list with figures, create, upload with a report, redeem; roles and tenancy."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from siyu.channels.models import Welfare, WelfareCode, WelfareGrant
from siyu.channels.services import welfare as svc
from siyu.customers.models import Customer
from tests.conftest import seat


def a_coupon(brand, name="阿尔法新客券", codes=("C1", "C2", "C3")) -> Welfare:
    planner = seat(brand.members["planner"], brand.workspace)
    welfare = svc.create_welfare(brand.workspace, planner, svc.WelfareInput(name=name, kind="coupon"))
    svc.upload_codes(brand.workspace, planner, welfare.pk, text="\n".join(codes))
    return welfare


def a_grant(brand, welfare, external="wmA") -> WelfareGrant:
    who = Customer.objects.create(workspace=brand.workspace, external_userid=external, name="王小雨")
    return svc.issue_welfare(brand.workspace, welfare, who, None, None)


def test_the_list_shows_stock_issued_and_redeemed(brand_a, login):
    welfare = a_coupon(brand_a)
    grant = a_grant(brand_a, welfare)
    svc.redeem(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), grant.pk)
    html = login(brand_a.members["copywriter"]).get("/channels/welfare/").content.decode()
    row = html.split("阿尔法新客券")[1].split("</tr>")[0]
    figures = [row.split(f'data-testid="{k}">')[1].split("<")[0] for k in ("stock", "issued", "redeemed")]
    assert figures == ["2", "1", "1"]
    assert 'data-testid="new-welfare"' not in html


def test_a_planner_creates_welfare_in_the_console(brand_a, login):
    client = login(brand_a.members["planner"])
    assert 'data-testid="new-welfare"' in client.get("/channels/welfare/").content.decode()
    response = client.post("/channels/welfare/new/", {"name": "到店小样", "kind": "gift", "description": "到店领小样一份",
                                                       "stock": "100", "starts_at": "2026-12-01T10:00"})
    welfare = Welfare.objects.for_workspace(brand_a.workspace).get()
    assert response.status_code == 302 and response["Location"] == f"/channels/welfare/{welfare.pk}/"
    assert (welfare.kind, welfare.stock, welfare.starts_at.isoformat()) == ("gift", 100, "2026-12-01T02:00:00+00:00")


def test_bad_welfare_input_is_shown_on_the_form_and_nothing_is_saved(brand_a, login):
    response = login(brand_a.members["planner"]).post("/channels/welfare/new/", {"name": "赠品", "kind": "gift"})
    assert response.status_code == 200 and 'data-error-for="description"' in response.content.decode()
    assert not Welfare.objects.for_workspace(brand_a.workspace).exists()


def test_uploading_a_file_shows_the_row_report(brand_a, login):
    welfare = a_coupon(brand_a)
    upload = SimpleUploadedFile("codes.txt", b"C4\n\nC1\nC5\n")
    response = login(brand_a.members["ops_lead"]).post(f"/channels/welfare/{welfare.pk}/codes/", {"file": upload})
    html = response.content.decode()
    assert response.status_code == 200
    report = html.split('data-testid="upload-report"')[1]
    assert "<td>2</td>" in report and "<td>3</td>" in report and "<code>C1</code>" in report
    assert WelfareCode.objects.for_workspace(brand_a.workspace).count() == 5


def test_the_report_lists_twenty_skipped_rows_and_counts_the_rest(brand_a, login):
    welfare = a_coupon(brand_a)
    upload = SimpleUploadedFile("codes.txt", b"C1\n" * 600)
    response = login(brand_a.members["ops_lead"]).post(f"/channels/welfare/{welfare.pk}/codes/", {"file": upload})
    report = response.content.decode().split('data-testid="upload-report"')[1].split("</table>")
    assert report[0].count("<code>C1</code>") == 20
    assert "580" in report[1].split('data-testid="more-rows"')[1].split("</div>")[0]


def test_an_empty_upload_is_refused_with_a_message(brand_a, login):
    welfare = a_coupon(brand_a)
    response = login(brand_a.members["planner"]).post(f"/channels/welfare/{welfare.pk}/codes/", {"codes": "  "})
    assert response.status_code == 400 and 'data-testid="form-errors"' in response.content.decode()


def test_redeeming_in_the_console_records_once(brand_a, login):
    welfare = a_coupon(brand_a)
    grant = a_grant(brand_a, welfare)
    client = login(brand_a.members["planner"])
    url = f"/channels/welfare/{welfare.pk}/grants/{grant.pk}/redeem/"
    assert client.post(url, {"note": "门店"}).status_code == 302
    page = client.post(url, {"note": "again"}, follow=True).content.decode()
    grant.refresh_from_db()
    assert grant.redeemed_note == "门店" and grant.redeemed_at is not None
    assert f'data-testid="redeem-{grant.pk}"' not in page


def test_a_copywriter_sees_welfare_but_may_not_change_it(brand_a, login):
    welfare = a_coupon(brand_a)
    grant = a_grant(brand_a, welfare)
    client = login(brand_a.members["copywriter"])
    page = client.get(f"/channels/welfare/{welfare.pk}/").content.decode()
    assert "<code>C1</code>" in page and 'data-testid="codes-form"' not in page and "redeem-" not in page
    assert client.get("/channels/welfare/new/").status_code == 403
    assert client.post("/channels/welfare/new/", {"name": "x", "kind": "coupon"}).status_code == 403
    assert client.post(f"/channels/welfare/{welfare.pk}/codes/", {"codes": "C9"}).status_code == 403
    assert client.post(f"/channels/welfare/{welfare.pk}/grants/{grant.pk}/redeem/").status_code == 403
    assert WelfareCode.objects.for_workspace(brand_a.workspace).count() == 3
    grant.refresh_from_db()
    assert grant.redeemed_at is None


def test_the_merchandiser_cannot_see_welfare(brand_a, login):
    assert login(brand_a.members["merchandiser"]).get("/channels/welfare/").status_code == 403


def test_another_brands_welfare_is_not_found_and_not_listed(brand_a, brand_b, login):
    welfare = a_coupon(brand_a)
    grant = a_grant(brand_a, welfare)
    client = login(brand_b.admin)
    assert "阿尔法新客券" not in client.get("/channels/welfare/").content.decode()
    assert client.get(f"/channels/welfare/{welfare.pk}/").status_code == 404
    assert client.post(f"/channels/welfare/{welfare.pk}/codes/", {"codes": "HIJACK"}).status_code == 404
    assert client.post(f"/channels/welfare/{welfare.pk}/grants/{grant.pk}/redeem/").status_code == 404
    assert not WelfareCode.objects.for_workspace(brand_a.workspace).filter(code="HIJACK").exists()
    grant.refresh_from_db()
    assert grant.redeemed_at is None

