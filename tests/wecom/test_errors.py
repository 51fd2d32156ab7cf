"""WeCom's errcodes become typed exceptions in one table (`siyu.wecom.errors`), raised by the
client; per-customer codes and statuses in a successful answer are typed there too."""

from __future__ import annotations

import httpx
import pytest

from siyu.wecom.client import (
    BadSecret,
    ContactWayMissing,
    ContactWaySpec,
    ContactWayUpdate,
    DownloadFailed,
    DownloadProblem,
    InvalidParameter,
    NotAFriend,
    StaffGone,
    TransferLimitReached,
    TransferState,
    WeComClient,
    WeComError,
    WelcomeCodeUsed,
    download,
)
from siyu.wecom.errors import ERRORS, RateLimited, error_class, error_for
from siyu.wecom.schemas import CustomerTransferOutcome, TransferStatus
from tests.wecom.client_support import add_customer, connect

DAY = 24 * 3600


# --- the table -------------------------------------------------------------------------------


def test_every_typed_error_is_a_wecom_error():
    assert all(issubclass(kind, WeComError) for kind in ERRORS.values())


@pytest.mark.parametrize(("errcode", "endpoint", "kind"), [
    (40001, "gettoken", BadSecret),
    (60111, "user/get", StaffGone),
    (40003, "user/get", StaffGone),
    (84061, "externalcontact/close_temp_chat", NotAFriend),
    (41051, "externalcontact/send_welcome_msg", WelcomeCodeUsed),
    (45009, "user/get", RateLimited),
    (45033, "user/get", RateLimited),
    (40128, "externalcontact/transfer_customer", TransferLimitReached),
    (40058, "externalcontact/get_contact_way", ContactWayMissing),
    (40058, "externalcontact/update_contact_way", ContactWayMissing),
    (40058, "externalcontact/del_contact_way", ContactWayMissing),
    (40058, "externalcontact/add_contact_way", InvalidParameter),
    (99999, "user/get", WeComError),
])
def test_an_errcode_means_one_error(errcode, endpoint, kind):
    assert error_class(errcode, endpoint) is kind


def test_a_missing_contact_way_is_an_invalid_parameter_only_on_contact_way_calls():
    assert issubclass(ContactWayMissing, InvalidParameter)
    assert not issubclass(error_class(40058, "externalcontact/groupchat/add_join_way"), ContactWayMissing)


def test_the_raised_error_keeps_what_wecom_said():
    error = error_for(84061, "not external contact", "externalcontact/remark")
    assert isinstance(error, NotAFriend)
    assert (error.errcode, error.errmsg, error.endpoint) == (84061, "not external contact", "externalcontact/remark")
    assert str(error) == "externalcontact/remark: 84061 not external contact"


def test_per_customer_codes_and_statuses_are_typed():
    assert CustomerTransferOutcome(external_userid="wmA").refusal is None
    assert CustomerTransferOutcome(external_userid="wmA", errcode=84061).refusal is NotAFriend
    assert CustomerTransferOutcome(external_userid="wmA", errcode=40128).refusal is TransferLimitReached
    assert CustomerTransferOutcome(external_userid="wmA", errcode=12345).refusal is WeComError
    assert [TransferStatus(external_userid="wmA", status=s).state for s in (1, 2, 3, 4, 5, 9)] == [
        TransferState.DONE, TransferState.WAITING, TransferState.REFUSED, TransferState.TAKEOVER_FULL,
        TransferState.NO_RECORD, None,
    ]


# --- raised by the client, against the twin ----------------------------------------------------


@pytest.fixture
def client(api_client):
    """The WeCom API client, not Django's test client."""
    return api_client


def test_a_contact_way_wecom_does_not_know_raises_contact_way_missing(client):
    for call in (lambda: client.get_contact_way("nope"),
                 lambda: client.update_contact_way(ContactWayUpdate(config_id="nope", user=["lisi"])),
                 lambda: client.delete_contact_way("nope")):
        with pytest.raises(ContactWayMissing) as raised:
            call()
        assert raised.value.errcode == 40058


def test_an_invalid_new_contact_way_is_not_a_missing_one(client):
    with pytest.raises(InvalidParameter) as raised:
        client.add_contact_way(ContactWaySpec(type=1, scene=2, user=["zhangsan"], state="x" * 31))
    assert not isinstance(raised.value, ContactWayMissing)


def test_a_member_not_in_the_corp_raises_staff_gone(client):
    with pytest.raises(StaffGone):
        client.get_staff("nobody")


def test_a_stranger_raises_not_a_friend(client, api_twin):
    ext = add_customer(api_twin, "wmA")
    with pytest.raises(NotAFriend):
        client.close_temp_chat("lisi", ext)


def test_a_used_welcome_code_raises_welcome_code_used(client, api_twin):
    code = api_twin.admin.post(
        "/twin/customers/add", json={"name": "王小雨", "staff_userid": "zhangsan"}
    ).json()["welcome_code"]
    client.send_welcome_message(code, "欢迎!")
    with pytest.raises(WelcomeCodeUsed):
        client.send_welcome_message(code, "again")


def test_a_wrong_secret_raises_bad_secret(db, api_twin, local_cache):
    with WeComClient(connect(api_twin.api_base, secret="wrong")) as client, pytest.raises(BadSecret):
        client.get_staff("zhangsan")


def test_transfer_answers_are_typed_per_customer(client, api_twin):
    ext = add_customer(api_twin, "wmA")
    outcomes = client.transfer_customers("zhangsan", "lisi", [ext, "wmStranger"])
    assert [(o.external_userid, o.refusal) for o in outcomes] == [(ext, None), ("wmStranger", NotAFriend)]
    assert [s.state for s in client.transfer_result("zhangsan", "lisi").customer] == [TransferState.WAITING]
    api_twin.advance(DAY + 1)
    assert [s.state for s in client.transfer_result("zhangsan", "lisi").customer] == [TransferState.DONE]


# --- downloads of what WeCom serves by address --------------------------------------------------


def _served(handler) -> httpx.MockTransport:
    return httpx.MockTransport(handler)


def _failing(error: type[httpx.TransportError]):
    def handler(request: httpx.Request) -> httpx.Response:
        raise error("no answer", request=request)

    return handler


def test_a_download_returns_the_body():
    transport = _served(lambda request: httpx.Response(200, content=b"png"))
    assert download("https://wework.qpic.cn/qr.png", max_bytes=10, transport=transport) == b"png"


@pytest.mark.parametrize(("url", "handler", "problem"), [
    ("ftp://example.com/qr.png", None, DownloadProblem.NOT_A_WEB_ADDRESS),
    ("https://x/qr.png", lambda r: httpx.Response(404), DownloadProblem.HTTP_STATUS),
    ("https://x/qr.png", lambda r: httpx.Response(200, headers={"content-length": "11"}, content=b"x" * 11),
     DownloadProblem.TOO_LARGE),
    ("https://x/qr.png", lambda r: httpx.Response(200, content=iter([b"x" * 6, b"x" * 6])), DownloadProblem.TOO_LARGE),
    ("https://x/qr.png", _failing(httpx.ReadTimeout), DownloadProblem.TIMEOUT),
    ("https://x/qr.png", _failing(httpx.ConnectError), DownloadProblem.UNREACHABLE),
])
def test_a_failed_download_says_why(url, handler, problem):
    transport = _served(handler or (lambda request: httpx.Response(200)))
    with pytest.raises(DownloadFailed) as raised:
        download(url, max_bytes=10, transport=transport)
    assert raised.value.problem == problem
    if problem == DownloadProblem.HTTP_STATUS:
        assert raised.value.status == 404
    if problem == DownloadProblem.UNREACHABLE:
        assert raised.value.error == "ConnectError"
