"""WeCom's errors, typed: the one place that reads WeCom's errcodes (WECOM.md §0-§8).

The client raises `WeComError` for every refusal, as the subclass `ERRORS` names for its
errcode, so domain code catches what a refusal means (`except ContactWayMissing:`) and never
compares codes. A code not in the table raises `WeComError` itself; `except WeComError` still
catches everything. `exc.errcode` and `exc.errmsg` are there to show people, not to decide on.
"""

from __future__ import annotations

from enum import StrEnum


class WeComError(Exception):
    """WeCom answered with a non-zero errcode (or, for `WeComUnavailable`, did not answer)."""

    def __init__(self, errcode: int, errmsg: str, endpoint: str) -> None:
        super().__init__(f"{endpoint}: {errcode} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.endpoint = endpoint


class WeComUnavailable(WeComError):
    """No usable answer: a timeout, a network error, a non-JSON body."""


class BadSecret(WeComError):
    """The corp's secret is wrong (40001): not retried; an admin must fix the settings (§1)."""


class IpNotTrusted(WeComError):
    """The server's IP is not on the app's trusted-IP list (60020, §0)."""


class RateLimited(WeComError):
    """Over WeCom's frequency (45009) or concurrency (45033) limit, after the one retry (§1)."""


class InvalidParameter(WeComError):
    """WeCom found a parameter invalid (40058)."""


class ContactWayMissing(InvalidParameter):
    """WeCom does not know this contact way's config_id (40058 on a contact-way call) [?]: it
    was deleted outside the platform, or the twin restarted with empty memory (§3)."""


class AcquisitionLinkMissing(InvalidParameter):
    """WeCom does not know this acquisition link's link_id (40058 on a link call) [?]: it was
    deleted outside the platform, or the twin restarted with empty memory (§7)."""


class JoinWayMissing(InvalidParameter):
    """WeCom does not know this join way's config_id (40058 on a join-way call) [?]: it was
    deleted outside the platform, or the twin restarted with empty memory (§4)."""


class GroupWelcomeMissing(InvalidParameter):
    """WeCom does not know this group welcome template (40058 on a template call) [?] (§10)."""


class StaffGone(WeComError):
    """The userid is not a member of the corp (any more): WeCom answers 60111 (userid not
    found) for a member who left, the twin 40003 (invalid userid)."""


class NotAFriend(WeComError):
    """The customer is not an external contact of this member (84061, §3)."""


class WelcomeCodeUsed(WeComError):
    """The welcome code was used already, e.g. another app answered the add first (41051, §3)."""


class GroupChatMissing(WeComError):
    """WeCom knows no customer group with this chat_id (40050 invalid chatid, §4): a typo, or a
    group dismissed or of another corp."""


class TransferLimitReached(WeComError):
    """The customer was transferred too often (twice in 90 days, §8). WECOM.md does not give the
    code; 40128 is the twin's [?]."""


class NotReady(WeComError):
    """WeCom has not finished preparing the answer yet (41063): a mass message's task queried
    straight after it was created (§10). Ask again later, with back-off."""


class InvalidCode(WeComError):
    """An OAuth code WeCom does not accept (40029): unknown, used already, or older than 5
    minutes (§10)."""


class NotAMember(WeComError):
    """An OAuth code of someone who is not a member of the corp (WeCom answers an openid, no
    userid; §10)."""


class DownloadProblem(StrEnum):
    NOT_A_WEB_ADDRESS = "not_a_web_address"
    HTTP_STATUS = "http_status"  # `status` says which
    TOO_LARGE = "too_large"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"  # `error` names the transport error


class DownloadFailed(Exception):
    """A file WeCom serves by address (a contact way's QR image, §3) could not be had."""

    def __init__(self, problem: DownloadProblem, *, status: int | None = None, error: str = "") -> None:
        super().__init__(f"{problem}{f' {status}' if status is not None else ''}{f' {error}' if error else ''}")
        self.problem = problem
        self.status = status
        self.error = error


ANY_ENDPOINT = ""

# (errcode, endpoint) -> what it means; ANY_ENDPOINT for a code that means the same everywhere.
# A row for an endpoint wins over the ANY_ENDPOINT row of the same code.
ERRORS: dict[tuple[int, str], type[WeComError]] = {
    (40001, ANY_ENDPOINT): BadSecret,
    (40003, ANY_ENDPOINT): StaffGone,
    (60111, ANY_ENDPOINT): StaffGone,
    (40058, ANY_ENDPOINT): InvalidParameter,
    (40058, "externalcontact/get_contact_way"): ContactWayMissing,
    (40058, "externalcontact/update_contact_way"): ContactWayMissing,
    (40058, "externalcontact/del_contact_way"): ContactWayMissing,
    (40058, "externalcontact/customer_acquisition/get"): AcquisitionLinkMissing,
    (40058, "externalcontact/customer_acquisition/update_link"): AcquisitionLinkMissing,
    (40058, "externalcontact/customer_acquisition/delete_link"): AcquisitionLinkMissing,
    (40058, "externalcontact/groupchat/get_join_way"): JoinWayMissing,
    (40058, "externalcontact/groupchat/update_join_way"): JoinWayMissing,
    (40058, "externalcontact/groupchat/del_join_way"): JoinWayMissing,
    (40058, "externalcontact/group_welcome_template/get"): GroupWelcomeMissing,
    (40058, "externalcontact/group_welcome_template/edit"): GroupWelcomeMissing,
    (40058, "externalcontact/group_welcome_template/del"): GroupWelcomeMissing,
    (41051, ANY_ENDPOINT): WelcomeCodeUsed,
    (45009, ANY_ENDPOINT): RateLimited,
    (45033, ANY_ENDPOINT): RateLimited,
    (60020, ANY_ENDPOINT): IpNotTrusted,
    (84061, ANY_ENDPOINT): NotAFriend,
    (40128, ANY_ENDPOINT): TransferLimitReached,
    (40050, ANY_ENDPOINT): GroupChatMissing,
    (41063, ANY_ENDPOINT): NotReady,
    (40029, ANY_ENDPOINT): InvalidCode,
}


def error_class(errcode: int, endpoint: str = ANY_ENDPOINT) -> type[WeComError]:
    """The exception class for this errcode (on this endpoint); `WeComError` for one not listed."""
    return ERRORS.get((errcode, endpoint)) or ERRORS.get((errcode, ANY_ENDPOINT), WeComError)


def error_for(errcode: int, errmsg: str, endpoint: str) -> WeComError:
    """The typed exception for WeCom's answer, to raise."""
    return error_class(errcode, endpoint)(errcode, errmsg, endpoint)
