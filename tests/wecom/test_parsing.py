"""Every WeCom change type becomes its typed domain event."""

import datetime as dt

import pytest

from siyu.wecom import events as ev
from siyu.wecom.parsing import MalformedCallback, read_callback, to_domain_event


def xml(event: str, change: str, **fields: str) -> bytes:
    body = "".join(f"<{k}><![CDATA[{v}]]></{k}>" if not v.startswith("<") else f"<{k}>{v}</{k}>" for k, v in fields.items())
    return (f"<xml><ToUserName>ww1</ToUserName><FromUserName>sys</FromUserName><CreateTime>1700000000</CreateTime>"
            f"<MsgType>event</MsgType><Event>{event}</Event><ChangeType>{change}</ChangeType>{body}</xml>").encode()


@pytest.mark.parametrize(("change", "event_type", "extra", "attr", "value"), [
    ("add_external_contact", ev.FriendAdded, {"State": "c1", "WelcomeCode": "W"}, "state", "c1"),
    ("add_half_external_contact", ev.FriendHalfAdded, {"State": "c2", "WelcomeCode": "W"}, "welcome_code", "W"),
    ("edit_external_contact", ev.ContactEdited, {}, "staff_userid", "u1"),
    ("del_external_contact", ev.StaffDeletedCustomer, {"Source": "DELETE_BY_TRANSFER"}, "source", "DELETE_BY_TRANSFER"),
    ("del_follow_user", ev.CustomerDeletedStaff, {}, "external_userid", "wm1"),
    ("transfer_fail", ev.TransferFailed, {"FailReason": "customer_refused"}, "fail_reason", "customer_refused"),
])
def test_contact_changes(change, event_type, extra, attr, value):
    event = to_domain_event(read_callback(xml("change_external_contact", change, UserID="u1", ExternalUserID="wm1", **extra)))
    assert type(event) is event_type
    assert getattr(event, attr) == value
    assert event.occurred_at.timestamp() == 1700000000


def test_group_created_and_dismissed():
    created = to_domain_event(read_callback(xml("change_external_chat", "create", ChatId="wr1")))
    assert created == ev.GroupCreated(occurred_at=dt.datetime.fromtimestamp(1700000000, tz=dt.UTC), chat_id="wr1")
    assert isinstance(to_domain_event(read_callback(xml("change_external_chat", "dismiss", ChatId="wr1"))), ev.GroupDismissed)


@pytest.mark.parametrize("detail", ["add_member", "del_member", "change_owner", "change_name", "change_notice"])
def test_group_updates_carry_detail_scenes_and_member_lists(detail):
    event = to_domain_event(read_callback(xml(
        "change_external_chat", "update", ChatId="wr1", UpdateDetail=detail, JoinScene="3", QuitScene="0",
        MemChangeCnt="2", MemChangeList="<Item>wm1</Item><Item>wm2</Item>", LastMemVer="v1", CurMemVer="v2",
    )))
    assert isinstance(event, ev.GroupUpdated)
    assert (event.update_detail, event.join_scene, event.quit_scene) == (detail, 3, 0)
    assert event.member_changes == ["wm1", "wm2"] and event.member_change_count == 2
    assert (event.last_member_version, event.current_member_version) == ("v1", "v2")


@pytest.mark.parametrize("change", ["create", "update", "delete", "shuffle"])
def test_corp_tag_changes(change):
    event = to_domain_event(read_callback(xml("change_external_tag", change, Id="et1", TagType="tag", StrategyId="")))
    assert isinstance(event, ev.CorpTagChanged)
    assert (event.change_type, event.tag_id, event.tag_type) == (change, "et1", "tag")


def test_dedupe_key_follows_wecom_md_and_tells_group_changes_apart():
    a = read_callback(xml("change_external_contact", "add_external_contact", UserID="u1", ExternalUserID="wm1"))
    assert a.dedupe_key.startswith("change_external_contact|add_external_contact|u1|wm1|1700000000")
    g1 = read_callback(xml("change_external_chat", "update", ChatId="wr1", UpdateDetail="add_member", CurMemVer="v2"))
    g2 = read_callback(xml("change_external_chat", "update", ChatId="wr1", UpdateDetail="change_name", CurMemVer="v2"))
    assert g1.dedupe_key != g2.dedupe_key


def test_unknown_kinds_have_no_domain_event_but_a_key():
    callback = read_callback(xml("change_contact", "create_user", UserID="u1"))
    assert to_domain_event(callback) is None
    assert callback.dedupe_key.startswith("sha256|")


def test_missing_create_time_is_malformed():
    with pytest.raises(MalformedCallback):
        to_domain_event(read_callback(b"<xml><Event>change_external_chat</Event><ChangeType>create</ChangeType><ChatId>x</ChatId></xml>"))


def test_entities_in_decrypted_xml_are_refused():
    with pytest.raises(MalformedCallback):
        read_callback(b'<!DOCTYPE x [<!ENTITY a "b">]><xml><Event>&a;</Event></xml>')
