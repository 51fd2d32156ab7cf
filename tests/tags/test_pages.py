"""The tags console pages: groups and tags, sync, bulk tagging, rules and the completeness KPI;
roles and tenant isolation."""

from __future__ import annotations

import pytest
from django.utils import translation

from siyu.tags import services
from siyu.tags.models import CustomerTag, Tag, TagGroup, TagRule
from tests.tags.conftest import befriend, channel_codes, seed_twin_tags, twin_tags


@pytest.fixture
def synced(shop):
    seed_twin_tags(shop.twin, "肤质", ["油皮", "干皮"])
    services.sync_tags(shop.workspace, shop.ops)
    return {t.name: t for t in Tag.objects.for_workspace(shop.workspace)}


def test_the_tags_page_lists_groups_and_the_kpi(shop, synced, login):
    group = TagGroup.objects.for_workspace(shop.workspace).get()
    services.set_required(shop.workspace, shop.ops, group.pk, True)
    c = befriend(shop, "wmC1")
    services.tag_customers(shop.workspace, shop.ops, [c.pk], [synced["油皮"].pk])
    page = login(shop.members["customer_ops"]).get("/customers/tags/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "油皮" in html and "干皮" in html and 'data-testid="required"' in html
    assert 'data-testid="customer-tabs"' in html
    assert 'data-account="xiaowanzi01"' in html and "100%" in html


def test_sync_button_shows_the_result(shop, login):
    seed_twin_tags(shop.twin, "意向", ["高"])
    client = login(shop.members["customer_ops"])
    with translation.override("en"):
        page = client.post("/customers/tags/sync/", follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "高" in page.content.decode()
    assert TagGroup.objects.for_workspace(shop.workspace).get().name == "意向"


def test_creating_a_group_from_the_page_reaches_wecom(shop, login):
    client = login(shop.members["customer_ops"])
    page = client.post("/customers/tags/groups/new/", {"name": "意向", "tag_names": "高，中, 低", "required": "on"})
    assert page.status_code == 302
    assert twin_tags(shop.twin)["意向"].keys() == {"高", "中", "低"}
    assert TagGroup.objects.for_workspace(shop.workspace).get().required


def test_a_group_form_error_is_explained(shop, login):
    page = login(shop.members["customer_ops"]).post("/customers/tags/groups/new/", {"name": "意向", "tag_names": ""})
    assert page.status_code == 200 and 'data-error-for="tag_names"' in page.content.decode()


def test_rename_required_and_delete_from_the_page(shop, synced, login):
    client = login(shop.members["ops_lead"])
    group = TagGroup.objects.for_workspace(shop.workspace).get()
    client.post(f"/customers/tags/{synced['油皮'].pk}/edit/", {"name": "油性", "order": "3"})
    client.post(f"/customers/tags/groups/{group.pk}/required/", {"required": "1"})
    client.post(f"/customers/tags/{synced['干皮'].pk}/delete/")
    assert twin_tags(shop.twin) == {"肤质": {"油性": synced["油皮"].wecom_tag_id}}
    group.refresh_from_db()
    assert group.required


def test_a_wecom_refusal_is_shown_on_the_page(shop, synced, login):
    shop.twin.api("externalcontact/add_corp_tag", {"group_id": TagGroup.objects.for_workspace(shop.workspace)
                                                   .get().wecom_group_id, "tag": [{"name": "混合"}]})
    client = login(shop.members["customer_ops"])
    group = TagGroup.objects.for_workspace(shop.workspace).get()
    page = client.post(f"/customers/tags/groups/{group.pk}/tags/new/", {"name": "混合"}, follow=True)
    assert "40071" in page.content.decode()


def test_bulk_tagging_from_the_page(shop, synced, login):
    a, b = befriend(shop, "wmA"), befriend(shop, "wmB")
    client = login(shop.members["customer_ops"])
    page = client.post("/customers/tags/bulk/", {"customer_ids": f"{a.pk}, {b.pk}", "tag_ids": [synced["干皮"].pk]})
    assert page.status_code == 302
    assert CustomerTag.objects.for_workspace(shop.workspace).count() == 2
    page = client.post("/customers/tags/bulk/", {"customer_ids": "x", "tag_ids": [synced["干皮"].pk]})
    assert 'data-error-for="customer_ids"' in page.content.decode()


def test_rules_page_create_run_pause(shop, synced, login):
    channel_codes(shop, "chstore01")
    befriend(shop, "wmStore", state="chstore01")
    client = login(shop.members["customer_ops"])
    page = client.post("/customers/tags/rules/", {"name": "门店来的", "tag": synced["油皮"].pk, "kind": "channel",
                                                  "states": "chstore01"})
    assert page.status_code == 302
    rule = TagRule.objects.for_workspace(shop.workspace).get()
    client.post(f"/customers/tags/rules/{rule.pk}/run/")
    assert CustomerTag.objects.for_workspace(shop.workspace).count() == 1
    client.post(f"/customers/tags/rules/{rule.pk}/toggle/", {"enabled": "0"})
    rule.refresh_from_db()
    assert not rule.enabled
    html = client.get("/customers/tags/rules/").content.decode()
    assert "门店来的" in html and ">活码chstore01</a>" in html  # the code's name, linked
    page = client.post("/customers/tags/rules/", {"name": "坏", "tag": synced["油皮"].pk, "kind": "behaviour"})
    assert page.status_code == 200 and "alert-danger" in page.content.decode()


def test_viewers_see_but_may_not_change(shop, synced, login):
    client = login(shop.members["planner"])  # customers: view only
    html = client.get("/customers/tags/").content.decode()
    assert "油皮" in html and 'data-testid="sync"' not in html and 'data-testid="group-form"' not in html
    assert client.post("/customers/tags/sync/").status_code == 403
    assert client.post(f"/customers/tags/{synced['油皮'].pk}/delete/").status_code == 403
    assert client.post("/customers/tags/rules/", {"name": "x", "tag": synced["油皮"].pk, "kind": "stage",
                                                  "stages": "new"}).status_code == 403
    assert Tag.objects.for_workspace(shop.workspace).filter(deleted_at__isnull=True).count() == 2


def test_roles_without_customers_see_nothing(shop, synced, login):
    assert login(shop.members["copywriter"]).get("/customers/tags/").status_code == 403


def test_another_brand_sees_none_of_it(shop, synced, brand_b, login):
    client = login(brand_b.members["admin"])
    html = client.get("/customers/tags/").content.decode()
    assert "油皮" not in html
    assert client.post(f"/customers/tags/{synced['油皮'].pk}/delete/").status_code == 404
    group = TagGroup.objects.for_workspace(shop.workspace).get()
    assert client.post(f"/customers/tags/groups/{group.pk}/required/", {"required": "1"}).status_code == 404
    assert Tag.objects.for_workspace(shop.workspace).filter(deleted_at__isnull=True).count() == 2
    group.refresh_from_db()
    assert not group.required


def test_the_page_speaks_chinese_by_default(shop, synced, login):
    html = login(shop.members["customer_ops"]).get("/customers/tags/").content.decode()
    assert "标签完善度" in html and "从企业微信同步" in html and "自动打标签规则" in html


def test_the_cached_kpi_and_counts_follow_tagging(shop, synced, login):
    group = TagGroup.objects.for_workspace(shop.workspace).get()
    services.set_required(shop.workspace, shop.ops, group.pk, True)
    c = befriend(shop, "wmC1")
    client = login(shop.members["customer_ops"])
    assert 'data-testid="brand-completeness">0%' in client.get("/customers/tags/").content.decode()
    services.tag_customers(shop.workspace, shop.ops, [c.pk], [synced["油皮"].pk])
    html = client.get("/customers/tags/").content.decode()
    assert 'data-testid="brand-completeness">100%' in html and "油皮 · 1" in html


def test_stage_and_field_rules_from_the_page(shop, synced, login):
    from siyu.customers.models import Customer, CustomField

    CustomField.objects.create(workspace=shop.workspace, key="skin", label="肤质")
    a, b = befriend(shop, "wmA"), befriend(shop, "wmB")
    Customer.unscoped.filter(pk=a.pk).update(fields={"skin": "oily"})
    Customer.unscoped.filter(pk=b.pk).update(stage="engaged")
    client = login(shop.members["customer_ops"])
    assert "肤质 (skin)" in client.get("/customers/tags/rules/").content.decode()
    client.post("/customers/tags/rules/", {"name": "油皮", "tag": synced["油皮"].pk, "kind": "field",
                                           "field_key": "skin", "field_op": "equals", "field_value": "oily"})
    client.post("/customers/tags/rules/", {"name": "活跃", "tag": synced["干皮"].pk, "kind": "stage",
                                           "stages": ["engaged", "customer"]})
    for rule in TagRule.objects.for_workspace(shop.workspace):
        client.post(f"/customers/tags/rules/{rule.pk}/run/")
    assert set(CustomerTag.objects.for_workspace(shop.workspace).values_list("customer_id", "tag__name")) == {
        (a.pk, "油皮"), (b.pk, "干皮")}


def test_the_sync_note_counts_the_groups_there_are_now(shop, login):
    """A sync that found nothing, then groups created from the console: the page does not say
    "0 groups" beside the groups it lists."""
    services.sync_tags(shop.workspace, shop.ops)  # the twin has no tags yet
    for name in ("渠道来源", "肤质", "购买意向"):
        services.create_group(shop.workspace, shop.ops, name, ["甲", "乙"])
    html = login(shop.members["customer_ops"]).get("/customers/tags/").content.decode()
    note = html[html.index('data-testid="last-sync"'):]
    note = note[:note.index("</span>")]
    assert "3 个标签组" in note and "6 个标签" in note


def test_the_rule_form_picks_channel_codes_by_name_and_refuses_an_unknown_state(shop, synced, login):
    channel_codes(shop, "chstore01")
    client = login(shop.members["customer_ops"])
    html = client.get("/customers/tags/rules/").content.decode()
    form = html.split('data-testid="rule-form"')[1]
    assert "data-picker" in form and 'value="chstore01"' in form and "活码chstore01" in form
    page = client.post("/customers/tags/rules/", {"name": "门店来的", "tag": synced["油皮"].pk, "kind": "channel",
                                                  "states": ["chstore01", "chnope"]})
    assert page.status_code == 200 and not TagRule.objects.for_workspace(shop.workspace).exists()
    assert "chnope" in page.content.decode()
