"""What the phone pages show and do: the staff sidebar's panels and fans' pages.

A member of staff on the phone acts as their account's operator (`StaffAccount.operator`, the
console seat an admin linked on the accounts page), or, for an account nobody operates, as a
customer-ops seat without a user: they may read and tag the customers they chat with, and see
a phone number only when a linked seat's role may. Either way the sidebar shows only customers
who are (or were) the account's friends: the chat that is open is one of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from siyu.accounts.models import StaffAccount
from siyu.channels.models import ChannelCode, WelfareGrant
from siyu.community.models import CustomerGroup, GroupMember
from siyu.content import services as content
from siyu.content.models import Script
from siyu.core.models import Workspace
from siyu.core.permissions import Role, Seat
from siyu.customers import services as customers
from siyu.customers.channel_codes import ChannelRef, channel_refs
from siyu.customers.models import Customer, CustomField, DeletedBy, FollowRelation, TimelineEntry
from siyu.ip.models import Persona
from siyu.mobile import sessions
from siyu.sop import services as sop
from siyu.sop.models import Enrolment, RunState, StaffTask, StepRun, TaskState
from siyu.tags import services as tags
from siyu.tags.models import Tag
from siyu.wecom import identity

TIMELINE_ROWS = 20
TASK_ROWS = 50


@dataclass(frozen=True)
class PhoneSeat:
    """The seat of a staff member whose account no console member operates."""

    role: str = Role.CUSTOMER_OPS
    user: Any = None
    pk: int | None = None


def seat_of(account: StaffAccount) -> Seat:
    return account.operator if account.operator_id else PhoneSeat()  # type: ignore[return-value]


def staff_account(workspace: Workspace, userid: str) -> StaffAccount:
    """The active account of this WeCom user in the brand (DoesNotExist: not the brand's staff)."""
    return StaffAccount.objects.for_workspace(workspace).select_related("operator", "persona").get(
        userid=userid, active=True)


def account_by_id(workspace: Workspace, account_id: int) -> StaffAccount:
    return StaffAccount.objects.for_workspace(workspace).select_related("operator", "persona").get(
        pk=account_id, active=True)


# --- the customer panel ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SopLine:
    name: str
    done: int
    waiting: int


@dataclass
class CustomerPanel:
    customer: Customer
    follow: FollowRelation
    channel: ChannelRef | None
    phone: str
    stage: str
    tags: list[Any]
    tag_choices: list[tuple[str, list[Tag]]]
    fields: list[tuple[str, Any]]
    timeline: list[TimelineEntry]
    tasks: list[StaffTask]
    sops: list[SopLine] = field(default_factory=list)
    groups: list[CustomerGroup] = field(default_factory=list)


def _follow(workspace: Workspace, account: StaffAccount, external_userid: str) -> FollowRelation:
    """This account's relation with the customer whose chat is open; a customer the account never
    had (or handed over in a transfer) is not found."""
    # Two unique-index lookups: joined on external_userid, PostgreSQL walks the account's follows.
    customer = Customer.objects.for_workspace(workspace).get(external_userid=external_userid)
    follow = (FollowRelation.objects.for_workspace(workspace).exclude(deleted_by=DeletedBy.TRANSFER)
              .get(account=account, customer=customer))
    follow.customer = customer
    return follow


def customer_panel(workspace: Workspace, account: StaffAccount, external_userid: str) -> CustomerPanel:
    follow = _follow(workspace, account, external_userid)
    customer = follow.customer
    phone_role = account.operator.role if account.operator_id and account.operator else None
    live = list(tags.live_tags(workspace))
    groups: dict[str, list[Tag]] = {}
    for tag in live:
        groups.setdefault(tag.group.name, []).append(tag)
    definitions = CustomField.objects.for_workspace(workspace).order_by("position", "id")
    values = customer.fields or {}
    open_states = (TaskState.OPEN, TaskState.SNOOZED)
    tasks = list(StaffTask.objects.for_workspace(workspace)
                 .filter(customer=customer, assignee=account, state__in=open_states).order_by("due_at")[:10])
    return CustomerPanel(
        customer=customer, follow=follow,
        channel=channel_refs(workspace, [follow.state]).get(follow.state) if follow.state else None,
        phone=customers.shown_phone(customer.phone, phone_role),
        stage=customer.get_stage_display() if customer.stage else "",
        tags=tags.customer_tags(workspace, customer.pk),
        tag_choices=list(groups.items()),
        fields=[(f.label, values.get(f.key)) for f in definitions if values.get(f.key) not in (None, "", [])],
        timeline=list(TimelineEntry.objects.for_workspace(workspace).filter(customer=customer)
                      .order_by("-at", "-id")[:TIMELINE_ROWS]),
        tasks=tasks, sops=_sops(workspace, customer.pk), groups=groups_of(workspace, customer.pk))


def groups_of(workspace: Workspace, customer_id: int) -> list[CustomerGroup]:
    """The customer groups this customer is in now."""
    joined = GroupMember.objects.for_workspace(workspace).filter(customer_id=customer_id, left_at=None)
    return list(CustomerGroup.objects.for_workspace(workspace).filter(pk__in=joined.values("group_id"),
                                                                      dismissed_at=None).order_by("name", "pk")[:20])


def group_panel(workspace: Workspace, account: StaffAccount, chat_id: str) -> CustomerGroup:
    """The open group chat, if the account owns it or is in it (else DoesNotExist)."""
    group = CustomerGroup.objects.for_workspace(workspace).get(chat_id=chat_id)
    if group.owner_id != account.pk and not GroupMember.objects.for_workspace(workspace).filter(
            group=group, userid=account.userid, left_at=None).exists():
        raise CustomerGroup.DoesNotExist("not the account's group")
    return group


def _sops(workspace: Workspace, customer_id: int) -> list[SopLine]:
    """The SOPs this customer runs, with steps fired and steps still waiting."""
    names = dict(Enrolment.objects.for_workspace(workspace).filter(customer_id=customer_id)
                 .values_list("pk", "sop__name"))
    counts: dict[int, list[int]] = {pk: [0, 0] for pk in names}
    for enrolment_id, state in (StepRun.objects.for_workspace(workspace).filter(enrolment_id__in=list(names))
                                .values_list("enrolment_id", "state")):
        if state == RunState.SENT:
            counts[enrolment_id][0] += 1
        elif state in (RunState.DUE, RunState.CLAIMED):
            counts[enrolment_id][1] += 1
    return [SopLine(names[pk], done, waiting) for pk, (done, waiting) in counts.items()]


def toggle_tag(workspace: Workspace, account: StaffAccount, external_userid: str, tag_id: int, on: bool) -> bool:
    """Put a tag on the open customer, or take it off: written to WeCom through their follow
    relations, as the console's tagging does. True when something changed."""
    follow = _follow(workspace, account, external_userid)
    if not Tag.objects.for_workspace(workspace).filter(pk=tag_id, deleted_at=None).exists():
        raise ValidationError(_("This tag no longer exists; pull down to refresh."))
    seat = seat_of(account)
    if on:
        return tags.tag_customers(workspace, seat, [follow.customer_id], [tag_id]) > 0
    return tags.untag_customers(workspace, seat, [follow.customer_id], [tag_id]) > 0  # type: ignore[arg-type]


# --- scripts and tasks ----------------------------------------------------------------------------

def scripts(workspace: Workspace, account: StaffAccount, q: str = "") -> list[tuple[Script, list[str]]]:
    """Scripts matching `q`, each with the texts its steps put into the chat."""
    found = content.search_scripts(workspace, seat_of(account), q=q)[:50]
    shown = content.shown_steps(workspace, found)
    return [(s, [step.text for step in shown.get(s.pk, [])]) for s in found]


def record_script_sent(workspace: Workspace, account: StaffAccount, script_id: int) -> int:
    return content.record_copy(workspace, seat_of(account), script_id)


def my_tasks(workspace: Workspace, account: StaffAccount, now: dt.datetime | None = None) -> list[StaffTask]:
    """The account's tasks still to do, due today or earlier first (snoozed ones once they are back)."""
    now = now or timezone.now()
    return list(StaffTask.objects.for_workspace(workspace).filter(assignee=account).filter(
        Q(state=TaskState.OPEN) | Q(state=TaskState.SNOOZED, snoozed_until__lte=now))
        .select_related("customer").order_by("-priority", "due_at", "pk")[:TASK_ROWS])


def act_on_task(workspace: Workspace, account: StaffAccount, task_id: int, action: str, value: str) -> StaffTask:
    """Do, snooze or skip one of the account's own tasks (the task centre's rules apply)."""
    if not StaffTask.objects.for_workspace(workspace).filter(pk=task_id, assignee=account).exists():
        raise PermissionDenied(_("This task is assigned to someone else."))
    seat = seat_of(account)
    if action == "done":
        return sop.complete_task(workspace, seat, task_id, value)
    if action == "snooze":
        try:
            hours = int(value)
        except ValueError:
            hours = 0
        return sop.snooze_task(workspace, seat, task_id, hours)
    if action == "skip":
        return sop.skip_task(workspace, seat, task_id, value)
    raise ValidationError(_("Unknown action."))


# --- fans -----------------------------------------------------------------------------------------

def persona_of(workspace: Workspace, customer_id: int | None) -> Persona | None:
    """The persona a fan knows: that of the account that befriended them first, else the brand's first."""
    if customer_id is not None:
        follow = (FollowRelation.objects.for_workspace(workspace).filter(customer_id=customer_id, deleted_at=None,
                                                                         account__persona__isnull=False)
                  .select_related("account__persona").order_by("added_at").first())
        if follow is not None and follow.account.persona is not None:
            return follow.account.persona
    return Persona.objects.for_workspace(workspace).order_by("pk").first()


def customer_for_fan(workspace: Workspace, unionid: str, openid: str) -> Customer | None:
    """The brand's customer behind a WeChat user: by the unionid Siyu already holds, else by the
    external_userid WeCom maps the unionid to; None for someone who is not (yet) a customer."""
    if not unionid:
        return None
    rows = Customer.objects.for_workspace(workspace)
    found = rows.filter(unionid=unionid).first()
    if found is None:
        external_userid = identity.customer_from_unionid(workspace, unionid, openid)
        found = rows.filter(external_userid=external_userid).first() if external_userid else None
    return found


FAN_PAGES = {"welfare": "mobile:fan_welfare", "me": "mobile:fan_me", "checkin": "mobile:fan_checkin",
             "points": "mobile:fan_points", "boards": "mobile:fan_boards"}
BOARD_PAGE = "board:"  # a link to one group's board (and waiting list): "board:<group id>"


def fan_link_path(workspace: Workspace, page: str, customer_id: int | None = None, *,
                  days: int = sessions.LINK_DAYS) -> str:
    """The path of a signed, expiring link to a fan page (for messages, posters, menus); with a
    customer, only that customer may open it."""
    if page not in FAN_PAGES and _board_page(page) is None:
        raise ValueError(page)
    token = sessions.fan_token(workspace.pk, page, customer_id, days=days)
    return reverse("mobile:fan_link", args=[workspace.slug, token])


def _board_page(page: str) -> int | None:
    rest = page.removeprefix(BOARD_PAGE)
    return int(rest) if page.startswith(BOARD_PAGE) and rest.isdigit() and len(rest) < 19 else None


def fan_page_path(workspace: Workspace, page: str) -> str | None:
    """Where a signed link's page lands (None for a page that does not exist)."""
    if page in FAN_PAGES:
        return reverse(FAN_PAGES[page], args=[workspace.slug])
    group_id = _board_page(page)
    return reverse("mobile:fan_board", args=[workspace.slug, group_id]) if group_id is not None else None


@dataclass(frozen=True)
class HeldWelfare:
    name: str
    description: str
    code: str
    link_url: str
    granted_at: dt.datetime
    use_by: dt.datetime | None
    redeemed_at: dt.datetime | None

    @property
    def usable(self) -> bool:
        return self.redeemed_at is None and (self.use_by is None or self.use_by > timezone.now())


def welfare_of(workspace: Workspace, customer_id: int) -> list[HeldWelfare]:
    """Every welfare this customer holds, newest first, with its code and use-by date."""
    grants = (WelfareGrant.objects.for_workspace(workspace).filter(customer_id=customer_id)
              .select_related("welfare", "code").order_by("-granted_at", "-pk")[:100])
    return [HeldWelfare(g.welfare.name, g.welfare.description, g.code.code if g.code else "", g.welfare.link_url,
                        g.granted_at, g.welfare.ends_at, g.redeemed_at) for g in grants]


@dataclass(frozen=True)
class JoinWay:
    link_url: str  # a WeCom acquisition link: opens "add friend" straight from WeChat
    qr_code_url: str


def join_way(workspace: Workspace) -> JoinWay | None:
    """How a WeChat user who is not yet a customer adds the persona: the newest live channel code."""
    code = (ChannelCode.objects.for_workspace(workspace).filter(expired_at=None, active=True)
            .exclude(link_url="", qr_code_url="").order_by("-pk").first())
    return JoinWay(code.link_url, code.qr_code_url) if code else None
