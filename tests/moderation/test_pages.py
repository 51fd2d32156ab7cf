"""The moderation pages: shown to community viewers, changed by its editors, one brand's own."""

from __future__ import annotations

from siyu.community.models import CustomerGroup, GroupMember, MemberKind
from siyu.moderation import services
from siyu.moderation.models import BlacklistEntry, ChecklistTick
from siyu.sop.models import StaffTask
from tests.conftest import seat


def test_every_page_opens_for_a_viewer_with_the_honest_limits(brand_a, login):
    client = login(brand_a.members["copywriter"])
    for path in ("/community/moderation/", "/community/moderation/blacklist/", "/community/moderation/alerts/",
                 "/community/moderation/checklist/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "服务端接口" in response.content.decode() or "API" in response.content.decode()
    assert client.get("/community/moderation/rules/new/").status_code == 403


def test_an_editor_writes_rules_from_a_template_and_publishes_them(brand_a, login):
    ws = brand_a.workspace
    CustomerGroup.objects.create(workspace=ws, chat_id="wr1", name="一群")
    client = login(brand_a.admin)
    page = client.get("/community/moderation/rules/new/?template=welfare").content.decode()
    assert "福利群群规" in page
    t = services.TEMPLATE_KEYS["welfare"]
    response = client.post("/community/moderation/rules/new/", {
        "name": t.title, "group_type": "", "join_rules": t.join_rules, "behaviour": t.behaviour,
        "penalties": t.penalties, "template": "welfare"})
    assert response.status_code == 302
    rules = services.rules_of(ws).get()
    client.post(f"/community/moderation/rules/{rules.pk}/publish/")
    assert StaffTask.objects.for_workspace(ws).filter(source="moderation").count() == 1
    page = client.get("/community/moderation/").content.decode()
    assert "0 / 1" in page or "0" in page and "福利群群规" in page


def test_the_rules_form_explains_its_refusals(brand_a, login):
    response = login(brand_a.admin).post("/community/moderation/rules/new/", {"name": "", "group_type": ""})
    assert response.status_code == 200 and 'data-error-for="name"' in response.content.decode()


def test_the_blacklist_page_adds_lifts_and_asks_for_a_removal(brand_a, login):
    ws = brand_a.workspace
    group = CustomerGroup.objects.create(workspace=ws, chat_id="wr1", name="一群")
    GroupMember.objects.create(workspace=ws, group=group, userid="wmA", kind=MemberKind.CUSTOMER, nickname="阿强")
    client = login(brand_a.members["ops_lead"])
    assert client.post("/community/moderation/blacklist/", {"form": "entry", "external_userid": "wmA",
                                                            "reason": "骂人"}).status_code == 302
    entry = BlacklistEntry.objects.for_workspace(ws).get()
    assert entry.name == "阿强"
    assert "阿强" in client.get("/community/moderation/blacklist/").content.decode()
    client.post(f"/community/moderation/blacklist/{entry.pk}/lift/", {"reason": "误会"})
    assert not services.is_blacklisted(ws, external_userid="wmA")
    client.post("/community/moderation/blacklist/", {"form": "removal", "group": group.pk, "userid": "wmA",
                                                     "reason": "刷屏"})
    assert StaffTask.objects.for_workspace(ws).filter(source="moderation").count() == 1
    response = client.post("/community/moderation/blacklist/", {"form": "entry"})
    assert 'data-error-for="reason"' in response.content.decode()


def test_reports_and_keywords_from_the_alerts_page(brand_a, login):
    ws = brand_a.workspace
    group = CustomerGroup.objects.create(workspace=ws, chat_id="wr1", name="一群")
    GroupMember.objects.create(workspace=ws, group=group, userid="wmA", kind=MemberKind.CUSTOMER, nickname="阿强")
    client = login(brand_a.members["customer_ops"])
    client.post("/community/moderation/alerts/", {"form": "report", "group": group.pk, "userid": "wmA",
                                                  "text": "发广告"})
    client.post("/community/moderation/alerts/", {"form": "keywords", "words": "广告\n代购"})
    assert services.keywords_of(ws) == ["广告", "代购"]
    assert "发广告" in client.get("/community/moderation/alerts/").content.decode()


def test_the_checklist_page_ticks_for_editors_only(brand_a, brand_b, login):
    login(brand_a.members["data_analyst"]).post("/community/moderation/checklist/", {"item": "links", "on": "1"})
    assert not ChecklistTick.objects.for_workspace(brand_a.workspace).exists()
    login(brand_a.admin).post("/community/moderation/checklist/", {"item": "links", "on": "1"})
    assert ChecklistTick.objects.for_workspace(brand_a.workspace).count() == 1
    assert not services.checklist(brand_b.workspace, seat(brand_b.admin, brand_b.workspace))[0].tick
