"""The complaints pages in the console and the fans' complaint page (signed link, fan session)."""

from __future__ import annotations

from siyu.complaints import services
from siyu.complaints.models import Channel, Complaint, Status
from siyu.mobile import services as mobile
from tests.complaints.conftest import as_fan


def test_staff_open_a_complaint_from_the_console_and_work_it(shop, login):
    client = login(shop.brand.members["customer_ops"])
    response = client.post("/community/complaints/new/", {"channel": "group", "customer": "wm0001",
                                                          "group": shop.group.pk, "text": "少发了一件"})
    c = Complaint.objects.for_workspace(shop.workspace).get()
    assert response.status_code == 302 and response["Location"] == f"/community/complaints/{c.pk}/"
    page = client.get(f"/community/complaints/{c.pk}/").content.decode()
    assert "少发了一件" in page and 'data-testid="visible-line"' in page and c.script in page
    client.post(f"/community/complaints/{c.pk}/ack/")
    client.post(f"/community/complaints/{c.pk}/resolve/", {"note": "已补发"})
    c.refresh_from_db()
    assert c.status == Status.RESOLVED and c.resolution == "已补发"
    assert "少发了一件" in client.get("/community/complaints/").content.decode()


def test_the_new_complaint_form_explains_its_refusals(shop, login):
    response = login(shop.brand.admin).post("/community/complaints/new/", {"channel": "group", "customer": "nobody",
                                                                           "text": ""})
    page = response.content.decode()
    assert response.status_code == 200 and 'data-error-for="customer"' in page


def test_viewers_read_but_do_not_act(shop, login):
    c = services.open_complaint(shop.workspace, shop.seat("admin"), services.ComplaintInput(
        "太慢", shop.customers[0].pk, shop.group.pk, Channel.GROUP))
    client = login(shop.brand.members["copywriter"])
    assert client.get(f"/community/complaints/{c.pk}/").status_code == 200
    assert client.post(f"/community/complaints/{c.pk}/ack/").status_code == 403
    c.refresh_from_db()
    assert c.status == Status.OPEN


def test_the_analytics_page_draws_its_chart_or_says_it_is_empty(shop, login):
    client = login(shop.brand.members["data_analyst"])
    assert 'data-testid="complaints-chart-empty"' in client.get("/community/complaints/analytics/").content.decode()
    services.open_complaint(shop.workspace, shop.seat("admin"), services.ComplaintInput(
        "太慢", shop.customers[0].pk, shop.group.pk, Channel.GROUP))
    page = client.get("/community/complaints/analytics/?days=7").content.decode()
    assert 'id="complaints-data"' in page and 'data-testid="complaints-chart"' in page


def test_a_fan_complains_from_the_signed_link_and_sees_the_status(shop, client):
    ws = shop.workspace
    path = mobile.fan_link_path(ws, "complaint", shop.customers[2].pk)
    as_fan(client, ws, shop.customers[2].pk)
    landing = client.get(path)
    assert landing.status_code == 302 and landing["Location"] == f"/m/{ws.slug}/fan/complaint/"
    page = client.get(landing["Location"]).content.decode()
    assert 'data-testid="complaint-form"' in page and "福利群" in page
    client.post(f"/m/{ws.slug}/fan/complaint/", {"text": "优惠券用不了", "group": shop.group.pk, "key": "k1"})
    client.post(f"/m/{ws.slug}/fan/complaint/", {"text": "优惠券用不了", "group": shop.group.pk, "key": "k1"})
    c = Complaint.objects.for_workspace(ws).get()
    assert (c.channel, c.customer, c.group) == (Channel.FAN, shop.customers[2], shop.group)
    page = client.get(f"/m/{ws.slug}/fan/complaint/").content.decode()
    assert "优惠券用不了" in page and 'data-testid="mine"' in page


def test_another_customers_link_and_an_empty_complaint_are_refused(shop, client):
    ws = shop.workspace
    as_fan(client, ws, shop.customers[1].pk)
    assert client.get(mobile.fan_link_path(ws, "complaint", shop.customers[2].pk)).status_code == 403
    page = client.post(f"/m/{ws.slug}/fan/complaint/", {"text": " "}).content.decode()
    assert 'data-testid="problem"' in page and not Complaint.objects.for_workspace(ws).exists()
