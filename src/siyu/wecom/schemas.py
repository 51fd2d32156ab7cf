"""企业微信 API 数据结构 — the typed wire shapes of WeCom's server API (WECOM.md §1, §3-§8).

Requests are built from these models (`wire()` drops unset fields) and answers are validated
into them; unknown fields WeCom adds later are ignored. `siyu.wecom.client` re-exports the ones
callers use.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from siyu.wecom.errors import WeComError, error_class

# --- core: tokens, staff, contact ways, welcome messages, customers, tags (§1, §3) ------------


class WeComModel(BaseModel):
    """Base of the wire shapes: unknown fields WeCom adds later are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    def wire(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, by_alias=True)


class AccessToken(WeComModel):
    access_token: str
    expires_in: int


class DeptUser(WeComModel):
    userid: str
    department: int


class StaffPage(WeComModel):
    dept_user: list[DeptUser] = []
    next_cursor: str = ""


class StaffMember(WeComModel):
    userid: str
    name: str = ""
    department: list[int] = []
    position: str = ""
    status: int | None = None


class Department(WeComModel):
    id: int
    name: str = ""
    parentid: int = 0
    order: int = 0
    department_leader: list[str] = []


class ContactWaySpec(WeComModel):
    """联系我 — a contact way to create (WECOM.md §3: state and remark <= 30 characters)."""

    type: Literal[1, 2]  # 1 a single member, 2 several
    scene: Literal[1, 2]  # 1 mini-program, 2 QR code
    style: int | None = None
    remark: str | None = None
    skip_verify: bool | None = None
    state: str | None = None
    user: list[str] | None = None
    party: list[int] | None = None
    is_temp: bool | None = None
    expires_in: int | None = None
    chat_expires_in: int | None = None
    unionid: str | None = None
    is_exclusive: bool | None = None
    conclusions: dict[str, Any] | None = None


class ContactWayUpdate(WeComModel):
    """Changes to a contact way; a given `user` / `party` list replaces the old one."""

    config_id: str
    remark: str | None = None
    skip_verify: bool | None = None
    style: int | None = None
    state: str | None = None
    user: list[str] | None = None
    party: list[int] | None = None
    expires_in: int | None = None
    chat_expires_in: int | None = None
    unionid: str | None = None
    conclusions: dict[str, Any] | None = None


class ContactWayCreated(WeComModel):
    config_id: str
    qr_code: str = ""  # scene 2 only


class ContactWay(WeComModel):
    config_id: str
    type: int
    scene: int
    style: int | None = None
    remark: str = ""
    skip_verify: bool = True
    state: str = ""
    qr_code: str = ""
    user: list[str] = []
    party: list[int] = []
    is_temp: bool = False
    expires_in: int | None = None
    chat_expires_in: int | None = None
    unionid: str = ""
    conclusions: dict[str, Any] | None = None


class ConfigRef(WeComModel):
    config_id: str


class ContactWayPage(WeComModel):
    contact_way: list[ConfigRef] = []
    next_cursor: str = ""


class Attachment(WeComModel):
    """One welcome-message attachment, in WeCom's shape: `{"msgtype": kind, kind: {...}}`."""

    msgtype: Literal["image", "link", "miniprogram", "video", "file"]
    image: dict[str, str] | None = None
    link: dict[str, str] | None = None
    miniprogram: dict[str, str] | None = None
    video: dict[str, str] | None = None
    file: dict[str, str] | None = None

    @classmethod
    def of_image(cls, media_id: str) -> Attachment:
        return cls(msgtype="image", image={"media_id": media_id})

    @classmethod
    def of_link(cls, title: str, url: str, picurl: str = "", desc: str = "") -> Attachment:
        link = (
            {"title": title, "url": url}
            | ({"picurl": picurl} if picurl else {})
            | ({"desc": desc} if desc else {})
        )
        return cls(msgtype="link", link=link)

    @classmethod
    def of_miniprogram(cls, title: str, pic_media_id: str, appid: str, page: str) -> Attachment:
        return cls(
            msgtype="miniprogram",
            miniprogram={
                "title": title,
                "pic_media_id": pic_media_id,
                "appid": appid,
                "page": page,
            },
        )


class ExternalContact(WeComModel):
    external_userid: str
    name: str = ""
    type: int = 1  # 1 WeChat user, 2 WeCom user
    gender: int = 0
    avatar: str = ""
    unionid: str = ""
    corp_name: str = ""


class FollowTag(WeComModel):
    tag_id: str = ""
    tag_name: str = ""
    group_name: str = ""
    type: int = 1


class FollowUser(WeComModel):
    """A staff member's side of the friendship (remark, tags, how and by which state added)."""

    userid: str
    remark: str = ""
    description: str = ""
    createtime: int = 0
    tags: list[FollowTag] = []
    tag_id: list[str] = []  # batch/get_by_user gives ids only
    remark_corp_name: str = ""
    remark_mobiles: list[str] = []
    add_way: int = 0
    oper_userid: str = ""
    state: str = ""


class CustomerDetail(WeComModel):
    external_contact: ExternalContact
    follow_user: list[FollowUser] = []
    next_cursor: str = ""


class CustomerOfStaff(WeComModel):
    external_contact: ExternalContact
    follow_info: FollowUser


class BatchFailInfo(WeComModel):
    # Staff without an interface licence (接口许可): WeCom lists none of their customers.
    unlicensed_userid_list: list[str] = []


class CustomerPage(WeComModel):
    external_contact_list: list[CustomerOfStaff] = []
    next_cursor: str = ""
    fail_info: BatchFailInfo = BatchFailInfo()


class CustomerIds(WeComModel):
    external_userid: list[str] = []


class CorpTag(WeComModel):
    id: str
    name: str
    create_time: int = 0
    order: int = 0
    deleted: bool = False


class TagGroup(WeComModel):
    group_id: str
    group_name: str
    create_time: int = 0
    order: int = 0
    deleted: bool = False
    tag: list[CorpTag] = []


class NewTag(WeComModel):
    name: str
    order: int | None = None


class TagGroups(WeComModel):
    tag_group: list[TagGroup] = []


class OneTagGroup(WeComModel):
    tag_group: TagGroup


class Departments(WeComModel):
    department: list[Department] = []


class OneContactWay(WeComModel):
    contact_way: ContactWay


class Empty(WeComModel):
    pass


# --- customer groups and join ways (客户群, 群活码; WECOM.md §4) ---------------------------------


class GroupChatRef(WeComModel):
    chat_id: str
    status: int = 0  # 0 normal, 1 owner resigned, 2 being inherited, 3 inherited


class GroupChatPage(WeComModel):
    group_chat_list: list[GroupChatRef] = []
    next_cursor: str = ""


class UserRef(WeComModel):
    userid: str


class GroupMember(WeComModel):
    userid: str
    type: int  # 1 staff, 2 external
    unionid: str = ""
    join_time: int = 0
    join_scene: int = 0  # 1 invited, 2 invite link, 3 group QR code
    invitor: UserRef | None = None
    group_nickname: str = ""
    name: str = ""  # only with need_name
    state: str = ""  # the join way's state, when joined through one


class GroupChat(WeComModel):
    chat_id: str
    name: str = ""
    owner: str = ""
    create_time: int = 0
    notice: str = ""
    member_list: list[GroupMember] = []
    admin_list: list[UserRef] = []
    member_version: str = ""


class OneGroupChat(WeComModel):
    group_chat: GroupChat


class GroupStatData(WeComModel):
    """One day's figures of an owner's groups (`groupchat/statistic_group_by_day`)."""

    new_chat_cnt: int = 0
    chat_total: int = 0
    chat_has_msg: int = 0
    new_member_cnt: int = 0
    member_total: int = 0
    member_has_msg: int = 0  # members who spoke
    msg_total: int = 0


class GroupDayStat(WeComModel):
    stat_time: int  # the day's start (China time), epoch seconds
    data: GroupStatData


class GroupDayStats(WeComModel):
    items: list[GroupDayStat] = []


class JoinWaySpec(WeComModel):
    """群活码 — a join way to create (WECOM.md §4: remark and state <= 30, base name <= 40,
    1 to 5 groups; auto_create_room defaults to 1)."""

    scene: Literal[1, 2]  # 1 mini-program, 2 QR code
    chat_id_list: list[str]
    remark: str | None = None
    auto_create_room: Literal[0, 1] | None = None
    room_base_name: str | None = None
    room_base_id: int | None = None
    state: str | None = None


class JoinWayUpdate(WeComModel):
    config_id: str
    scene: Literal[1, 2] | None = None
    chat_id_list: list[str] | None = None
    remark: str | None = None
    auto_create_room: Literal[0, 1] | None = None
    room_base_name: str | None = None
    room_base_id: int | None = None
    state: str | None = None


class JoinWay(WeComModel):
    config_id: str
    scene: int
    remark: str = ""
    auto_create_room: int = 1
    room_base_name: str = ""
    room_base_id: int = 0
    chat_id_list: list[str] = []
    qr_code: str = ""
    state: str = ""


class OneJoinWay(WeComModel):
    join_way: JoinWay


class GroupWelcome(WeComModel):
    """入群欢迎语素材 — a group welcome template (WECOM.md §10): text and at most one attachment
    (image, link or mini-program); `notify` 1 tells the group owners it changed. Group owners pick
    it in their client; WeCom sends it to whoever joins their group."""

    text: dict[str, str] | None = None  # {"content": ...}, <= 4000 bytes
    image: dict[str, str] | None = None  # {"media_id"} or {"pic_url"}
    link: dict[str, str] | None = None  # {"title", "url", "picurl"?, "desc"?}
    miniprogram: dict[str, str] | None = None  # {"title", "pic_media_id", "appid", "page"}
    agentid: int | None = None
    notify: Literal[0, 1] | None = None


class GroupWelcomeCreated(WeComModel):
    template_id: str


class GroupWelcomeHeld(WeComModel):
    """`group_welcome_template/get`: the template as WeCom holds it (no notify)."""

    text: dict[str, str] | None = None
    image: dict[str, str] | None = None
    link: dict[str, str] | None = None
    miniprogram: dict[str, str] | None = None


class FailedChat(WeComModel):
    chat_id: str
    errcode: int
    errmsg: str = ""


class FailedChats(WeComModel):
    failed_chat_list: list[FailedChat] = []


# --- mass messages (企业群发; WECOM.md §5) -----------------------------------------------------


class MessageText(WeComModel):
    content: str = ""


class MassMessageSpec(WeComModel):
    """A mass message: to customers (`single`, <= 10,000) or groups (`group`, <= 2,000, sender
    required); text <= 4000 bytes, <= 9 attachments. Staff must confirm it in their client."""

    chat_type: Literal["single", "group"] = "single"
    external_userid: list[str] | None = None
    chat_id_list: list[str] | None = None
    tag_filter: dict[str, Any] | None = None
    sender: str | None = None
    allow_select: bool | None = None
    text: str = ""
    attachments: list[Attachment] = []

    def wire(self) -> dict[str, Any]:
        data = super().wire()
        data["text"] = {"content": self.text} if self.text else None
        return {k: v for k, v in data.items() if v not in (None, [])}


class MassMessageCreated(WeComModel):
    msgid: str
    fail_list: list[str] = []


class MassMessage(WeComModel):
    msgid: str
    creator: str = ""
    create_time: int = 0
    create_type: int = 0  # 0 by the corp, 1 by a staff member
    text: MessageText | None = None
    attachments: list[dict[str, Any]] = []


class MassMessagePage(WeComModel):
    group_msg_list: list[MassMessage] = []
    next_cursor: str = ""


class MassTaskRow(WeComModel):
    userid: str
    status: int  # 0 not sent, 2 sent
    send_time: int = 0


class MassTaskPage(WeComModel):
    task_list: list[MassTaskRow] = []
    next_cursor: str = ""


class MassSendRow(WeComModel):
    userid: str = ""
    external_userid: str = ""
    chat_id: str = ""
    status: int  # 0 not sent, 1 sent, 2 not a friend, 3 over the receive limit
    send_time: int = 0


class MassSendPage(WeComModel):
    send_list: list[MassSendRow] = []
    next_cursor: str = ""


# --- notices to staff (应用消息; WECOM.md §10) ---------------------------------------------------


class NoticeCard(WeComModel):
    """A `textcard`: title <= 128 bytes, description <= 512 bytes, a link and its button text."""

    title: str
    description: str
    url: str
    btntxt: str | None = None


class StaffNoticeSpec(WeComModel):
    """An app message to staff: `content` for text and markdown (<= 2048 bytes, WeCom cuts the
    rest), `textcard`, `template_card`, or `media_id` for image, voice, video and file.
    `touser=["@all"]` reaches every member in the app's range."""

    touser: list[str] = []
    toparty: list[int] = []
    msgtype: Literal[
        "text", "markdown", "textcard", "template_card", "image", "voice", "video", "file"
    ] = "text"
    content: str = ""
    textcard: NoticeCard | None = None
    template_card: dict[str, Any] | None = None
    media_id: str = ""

    def wire_for(self, agentid: str) -> dict[str, Any]:
        payload: dict[str, Any]
        if self.msgtype in ("text", "markdown"):
            payload = {"content": self.content}
        elif self.msgtype == "textcard":
            payload = self.textcard.wire() if self.textcard else {}
        elif self.msgtype == "template_card":
            payload = dict(self.template_card or {})
        else:
            payload = {"media_id": self.media_id}
        data: dict[str, Any] = {
            "touser": "|".join(self.touser),
            "msgtype": self.msgtype,
            "agentid": int(agentid) if agentid.isdigit() else agentid,
            self.msgtype: payload,
        }
        if self.toparty:
            data["toparty"] = "|".join(str(p) for p in self.toparty)
        return data


class StaffNoticeSent(WeComModel):
    """`message/send`'s answer. Members over their limits are **not** listed: WeCom drops their
    copy silently (WECOM.md §10), so errcode 0 does not prove delivery."""

    msgid: str = ""
    invaliduser: str = ""
    invalidparty: str = ""
    invalidtag: str = ""
    unlicenseduser: str = ""

    @property
    def invalid_users(self) -> list[str]:
        return [u for u in self.invaliduser.split("|") if u]


# --- identity on the phone (WECOM.md §10: OAuth, JS-SDK tickets, unionids) --------------------


class OAuthUser(WeComModel):
    """`auth/getuserinfo`: a member of the corp has a `userid`; anyone else only an `openid`."""

    userid: str = ""
    openid: str = ""


class Ticket(WeComModel):
    """A JS-SDK ticket (the corp's jsapi_ticket, or the app's for agentConfig): 7,200 s."""

    ticket: str
    expires_in: int


class ExternalUserId(WeComModel):
    external_userid: str


# --- moments (客户朋友圈; WECOM.md §6) ---------------------------------------------------------


class MediaUpload(WeComModel):
    type: str
    media_id: str
    created_at: str = ""


class MomentSpec(WeComModel):
    """A moment: text <= 2000 characters; up to 9 images OR 1 video OR 1 link."""

    text: str = ""
    attachments: list[Attachment] = []
    visible_range: dict[str, Any] | None = None

    def wire(self) -> dict[str, Any]:
        data = super().wire()
        data["text"] = {"content": self.text} if self.text else None
        return {k: v for k, v in data.items() if v not in (None, [])}


class MomentJob(WeComModel):
    jobid: str


class MomentJobOutcome(WeComModel):
    errcode: int = 0
    errmsg: str = ""
    moment_id: str = ""
    invalid_sender_list: dict[str, Any] | None = None
    invalid_external_contact_list: dict[str, Any] | None = None


class MomentJobResult(WeComModel):
    status: int  # 1 started, 2 running, 3 done
    type: str = ""
    result: MomentJobOutcome | None = None


class Moment(WeComModel):
    moment_id: str
    creator: str = ""
    create_time: int = 0
    create_type: int = 0
    visible_type: int = 1
    text: MessageText | None = None
    image: list[dict[str, Any]] = []
    video: dict[str, Any] | None = None
    link: dict[str, Any] | None = None


class MomentPage(WeComModel):
    moment_list: list[Moment] = []
    next_cursor: str = ""


class MomentTaskRow(WeComModel):
    userid: str
    publish_status: int  # 0 not published, 1 published


class MomentTaskPage(WeComModel):
    task_list: list[MomentTaskRow] = []
    next_cursor: str = ""


class MomentCustomer(WeComModel):
    userid: str = ""
    external_userid: str


class MomentCustomerPage(WeComModel):
    customer_list: list[MomentCustomer] = []
    next_cursor: str = ""


class MomentInteraction(WeComModel):
    external_userid: str = ""
    userid: str = ""
    create_time: int = 0


class MomentComments(WeComModel):
    comment_list: list[MomentInteraction] = []
    like_list: list[MomentInteraction] = []


# --- acquisition links (获客助手; WECOM.md §7) -------------------------------------------------


class AcquisitionLink(WeComModel):
    link_id: str
    link_name: str = ""
    url: str = ""
    create_time: int = 0


class OneAcquisitionLink(WeComModel):
    link: AcquisitionLink


class AcquisitionLinkRange(WeComModel):
    user_list: list[str] = []
    department_list: list[int] = []


class AcquisitionLinkDetail(WeComModel):
    """`customer_acquisition/get`: the link with its staff range."""

    link: AcquisitionLink
    range: AcquisitionLinkRange = AcquisitionLinkRange()


class AcquisitionLinkPage(WeComModel):
    link_id_list: list[str] = []
    next_cursor: str = ""


# --- transfers (在职继承 / 离职继承; WECOM.md §8) ------------------------------------------------


class CustomerTransferOutcome(WeComModel):
    external_userid: str
    errcode: int = 0  # per customer: 0 accepted, else why not

    @property
    def refusal(self) -> type[WeComError] | None:
        """Why WeCom did not accept this customer, as the error its errcode means (e.g.
        `NotAFriend`, `TransferLimitReached`; see `siyu.wecom.errors`); None when accepted."""
        return None if self.errcode == 0 else error_class(self.errcode)


class CustomerTransferOutcomes(WeComModel):
    customer: list[CustomerTransferOutcome] = []


class TransferState(IntEnum):
    """Where one customer's transfer stands (`transfer_result` status, §8)."""

    DONE = 1
    WAITING = 2
    REFUSED = 3  # the customer refused
    TAKEOVER_FULL = 4  # over the takeover member's customer limit
    NO_RECORD = 5  # no such transfer


class TransferStatus(WeComModel):
    external_userid: str
    status: int  # 1 done, 2 waiting, 3 refused, 4 over limit, 5 none
    takeover_time: int = 0

    @property
    def state(self) -> TransferState | None:
        """The status as a `TransferState`; None for a code WECOM.md does not list."""
        try:
            return TransferState(self.status)
        except ValueError:
            return None


class TransferResultPage(WeComModel):
    customer: list[TransferStatus] = []
    next_cursor: str = ""


class UnassignedCustomer(WeComModel):
    handover_userid: str
    external_userid: str
    dimission_time: int = 0


class UnassignedPage(WeComModel):
    info: list[UnassignedCustomer] = []
    is_last: bool = True
    next_cursor: str = ""
