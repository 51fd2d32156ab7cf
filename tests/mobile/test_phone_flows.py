"""The staff sidebar and fans' pages through the twin's real OAuth, over HTTP: who may see
what, tags written to WeCom, scripts, tasks, welfare; and the refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from siyu.content.models import Script, ScriptFolder
from siyu.customers.models import Customer, FollowRelation
from siyu.mobile import services
from siyu.sop.models import StaffTask, TaskKind, TaskState
from tests.mobile.conftest import fan_sign_in, staff_sign_in

pytestmark = pytest.mark.django_db


def tags_at_twin(phones) -> list[str]:
    return next(f["tag_ids"] for f in phones.twin.state()["friendships"]
                if (f["userid"], f["external_userid"]) == ("staff0", "wmPHONE01"))


def test_staff_open_a_customer_through_wecom_oauth_and_tag_them(client, phones):
    path = f"/m/{phones.workspace.slug}/staff/c/wmPHONE01/"
    landed = staff_sign_in(client, phones, path)
    assert landed.status_code == 302 and landed["Location"] == path
    page = client.get(path)
    html = page.content.decode()
    assert page.status_code == 200 and "林小姐" in html and "干皮" in html and "干皮偏敏感" in html
    assert "138****5678" in html and "13812345678" not in html  # no linked seat: phone masked
    assert "twin" not in page["Content-Security-Policy"] or phones.twin.url in page["Content-Security-Policy"]

    tagged = client.post(f"{path}tags/", {"tag": phones.tag.pk, "on": "1"})
    assert tagged.status_code == 302
    assert tags_at_twin(phones) == [phones.tag.wecom_tag_id]
    assert 'aria-pressed="true">干皮' in client.get(path).content.decode()
    client.post(f"{path}tags/", {"tag": phones.tag.pk, "on": "0"})
    assert tags_at_twin(phones) == []


def test_the_sidebar_shows_only_the_staff_members_own_customers(client, phones, brand_b):
    stranger = Customer.objects.create(workspace=phones.workspace, external_userid="wmSTRANGER", name="路人")
    theirs = Customer.objects.create(workspace=brand_b.workspace, external_userid="wmBRANDB", name="别家客户")
    staff_sign_in(client, phones, f"/m/{phones.workspace.slug}/staff/")
    assert client.get(f"/m/{phones.workspace.slug}/staff/c/{stranger.external_userid}/").status_code == 404
    assert client.get(f"/m/{phones.workspace.slug}/staff/c/{theirs.external_userid}/").status_code == 404
    # brand A's staff session is nothing on brand B's pages: sign-in again (B has no WeCom here)
    assert client.get(f"/m/{brand_b.workspace.slug}/staff/c/{theirs.external_userid}/").status_code == 503
    # a tag toggle on a stranger changes nothing
    assert client.post(f"/m/{phones.workspace.slug}/staff/c/{stranger.external_userid}/tags/",
                       {"tag": phones.tag.pk, "on": "1"}).status_code == 404


def test_someone_who_is_not_the_brands_staff_is_refused(client, phones):
    phones.twin.add_staff("outsider")
    landed = staff_sign_in(client, phones, f"/m/{phones.workspace.slug}/staff/", userid="outsider")
    assert landed.status_code == 403 and "不是该品牌的员工" in landed.content.decode()


def test_a_used_oauth_code_or_a_foreign_state_is_refused(client, phones):
    first = client.get(f"/m/{phones.workspace.slug}/staff/")
    from tests.mobile.conftest import local_path, with_param

    at_twin = phones.twin.admin.get(with_param(first["Location"], twin_userid="staff0"))
    callback = local_path(at_twin.headers["location"])
    assert client.get(callback).status_code == 302
    client.cookies.pop("siyu_staff")
    assert client.get(callback).status_code == 400  # the state cookie is gone, the code used
    other = client.__class__()
    assert other.get(callback).status_code == 400  # another browser


def test_scripts_and_tasks_in_the_sidebar(client, phones):
    folder = ScriptFolder.objects.create(workspace=phones.workspace, name="产品问答", position=1)
    script = Script.objects.create(workspace=phones.workspace, folder=folder, title="干皮怎么选",
                                   steps=[{"text": "干皮姐妹先试试我们的修护精华～"}])
    now = timezone.now()
    task = StaffTask.objects.create(workspace=phones.workspace, assignee=phones.account, customer=phones.customer,
                                    kind=TaskKind.SEND, text="问问小样用得怎么样", due_at=now, source="sop", ref="t1")
    StaffTask.objects.create(workspace=phones.workspace, assignee=None, customer=phones.customer,
                             kind=TaskKind.CALL, text="not mine", due_at=now, source="sop", ref="t2")
    staff_sign_in(client, phones, f"/m/{phones.workspace.slug}/staff/")
    scripts = client.get(f"/m/{phones.workspace.slug}/staff/scripts/?q=干皮").content.decode()
    assert "修护精华" in scripts and "data-send=" in scripts
    assert client.post(f"/m/{phones.workspace.slug}/staff/scripts/{script.pk}/sent/").json() == {"sent": 1}
    tasks = client.get(f"/m/{phones.workspace.slug}/staff/tasks/").content.decode()
    assert "问问小样用得怎么样" in tasks and "not mine" not in tasks
    done = client.post(f"/m/{phones.workspace.slug}/staff/tasks/{task.pk}/done/", {"value": "已发，客户说好用"})
    assert done.status_code == 302
    task.refresh_from_db()
    assert (task.state, task.outcome) == (TaskState.DONE, "已发，客户说好用")
    other = StaffTask.unscoped.get(ref="t2")
    refused = client.post(f"/m/{phones.workspace.slug}/staff/tasks/{other.pk}/done/", {"value": "x"})
    assert refused.status_code == 403
    assert StaffTask.unscoped.get(ref="t2").state == TaskState.OPEN


def test_the_agent_config_signature_is_for_this_sites_pages_only(client, phones):
    staff_sign_in(client, phones, f"/m/{phones.workspace.slug}/staff/")
    base = f"/m/{phones.workspace.slug}/staff/signature/"
    signed = client.get(base, {"url": f"http://testserver/m/{phones.workspace.slug}/staff/"}).json()
    assert set(signed) >= {"corpId", "agentId", "timestamp", "nonceStr", "signature"}
    assert client.get(base, {"url": "https://evil.example/"}).status_code == 400


def test_a_fan_opens_a_signed_link_passes_oauth_and_sees_their_welfare(client, phones):
    link = services.fan_link_path(phones.workspace, "welfare", phones.customer.pk)
    back = fan_sign_in(client, phones, link, "wmPHONE01")
    assert back.status_code == 302 and back["Location"] == link
    landed = client.get(link, follow=True)
    html = landed.content.decode()
    assert landed.status_code == 200 and "SY-8848" in html and "新客小样" in html
    assert "<script" not in html  # fans' pages run no JavaScript


def test_a_fan_cannot_open_another_fans_link(client, phones):
    other = Customer.objects.create(workspace=phones.workspace, external_userid="wmOTHER", name="王先生")
    FollowRelation.objects.create(workspace=phones.workspace, customer=other, account=phones.account,
                                  added_at=timezone.now())
    theirs = services.fan_link_path(phones.workspace, "welfare", other.pk)
    fan_sign_in(client, phones, services.fan_link_path(phones.workspace, "me", phones.customer.pk), "wmPHONE01")
    refused = client.get(theirs)
    assert refused.status_code == 403 and "这是发给别人的链接" in refused.content.decode()


def test_a_wechat_user_who_is_not_a_customer_is_shown_how_to_add_the_persona(client, phones):
    link = services.fan_link_path(phones.workspace, "welfare")
    fan_sign_in(client, phones, link, "new:小李")
    page = client.get(link, follow=True)
    assert page.status_code == 200 and "先添加" in page.content.decode() and "SY-8848" not in page.content.decode()


def test_an_expired_link_is_refused_even_with_a_session(client, phones):
    link = services.fan_link_path(phones.workspace, "welfare", phones.customer.pk)
    fan_sign_in(client, phones, link, "wmPHONE01")
    with __import__("time_machine").travel(timezone.now() + dt.timedelta(days=8)):
        assert client.get(link).status_code == 410


def test_the_sidebar_shows_the_customers_groups_and_the_open_group(client, phones):
    from siyu.community.models import CustomerGroup, GroupMember, MemberKind, Stage

    ws = phones.workspace
    mine = CustomerGroup.objects.create(workspace=ws, chat_id="wrMINE", name="老客福利群", owner=phones.account,
                                        member_count=120, customer_count=118, stage=Stage.GROWTH,
                                        notice="每晚八点福利，禁止广告")
    GroupMember.objects.create(workspace=ws, group=mine, userid="wmPHONE01", kind=MemberKind.CUSTOMER,
                               customer=phones.customer)
    left = CustomerGroup.objects.create(workspace=ws, chat_id="wrLEFT", name="已退出的群")
    GroupMember.objects.create(workspace=ws, group=left, userid="wmPHONE01", kind=MemberKind.CUSTOMER,
                               customer=phones.customer, left_at=timezone.now())
    staff_sign_in(client, phones, f"/m/{ws.slug}/staff/")
    panel = client.get(f"/m/{ws.slug}/staff/c/wmPHONE01/").content.decode()
    assert "老客福利群" in panel and "120 人" in panel and "已退出的群" not in panel
    group = client.get(f"/m/{ws.slug}/staff/g/wrMINE/")
    assert group.status_code == 200 and "每晚八点福利" in group.content.decode()
    assert client.get(f"/m/{ws.slug}/staff/g/wrLEFT/").status_code == 404  # not the account's group
    assert client.get(f"/m/{ws.slug}/staff/g/wrNONE/").status_code == 404


def test_a_task_about_a_group_shows_the_groups_name_in_the_sidebar(client, phones):
    StaffTask.objects.create(workspace=phones.workspace, assignee=phones.account, customer=None, group_id=1,
                             subject="宝妈福利群3", kind=TaskKind.REMOVE, text="把违规成员移出群聊",
                             due_at=timezone.now(), source="moderation", ref="g1")
    staff_sign_in(client, phones, f"/m/{phones.workspace.slug}/staff/")
    tasks = client.get(f"/m/{phones.workspace.slug}/staff/tasks/")
    assert tasks.status_code == 200
    assert "宝妈福利群3" in tasks.content.decode() and "把违规成员移出群聊" in tasks.content.decode()
