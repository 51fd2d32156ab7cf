"""流失预警 — churn and capacity alerts as console notifications.

A customer deleting a staff account (`FollowEnded` with `deleted_by == "customer"`) tells the
member who runs the account (`StaffAccount.operator`) and the brand's ops leads (admins if there
is none), and puts a churn entry on the customer's timeline. An account filling up
(`accounts.capacity_alert`) tells the same people. WeCom's `transfer_fail` settles a waiting
transfer as refused or full at once. All are idempotent: the notices and the
timeline entry carry a dedupe key built from the event, so a replay adds nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from siyu.accounts.events import CapacityAlert
from siyu.accounts.models import StaffAccount
from siyu.core import events
from siyu.core.models import EventRecord, Membership, Workspace
from siyu.core.notifications import Notice, leads_of, notify_many
from siyu.customers.channel_codes import channel_refs
from siyu.customers.events import FollowEnded
from siyu.customers.models import Customer, DeletedBy
from siyu.customers.services import add_timeline
from siyu.customers.services.transfers import record_transfer_failed
from siyu.customers.timeline import TimelineKind
from siyu.wecom.events import TransferFailed

CHURN_KIND = "customers.churn"
CAPACITY_KIND = "accounts.capacity"


def _recipients(workspace: Workspace, account: StaffAccount) -> list[Membership]:
    seats = leads_of(workspace)
    if account.operator_id and account.operator is not None and account.operator.pk not in {m.pk for m in seats}:
        seats.insert(0, account.operator)
    return seats


@events.subscribe(FollowEnded)
def alert_churn(workspace: Workspace, event: FollowEnded, record: EventRecord) -> None:
    if event.deleted_by != DeletedBy.CUSTOMER:
        return  # staff deletions and transfers are not churn
    customer = Customer.objects.for_workspace(workspace).filter(pk=event.customer_id).first()
    account = (StaffAccount.objects.for_workspace(workspace).select_related("operator")
               .filter(pk=event.account_id).first())
    if customer is None or account is None:
        return
    key = f"churn:{event.relation_id}:{int(event.at.timestamp())}"
    title = gettext_noop("%(customer)s deleted %(account)s")
    # ops read the channel code's name; a state no code has is kept as it came
    channel = channel_refs(workspace, [event.state]).get(event.state)
    params = {"customer": str(customer), "account": str(account), "userid": account.userid,
              "state": channel.label if channel is not None else "—"}
    with translation.override(settings.LANGUAGE_CODE):
        detail = _(title) % params
    add_timeline(workspace, customer, TimelineKind.CHURN, event.at, account_id=account.pk,
                 detail=detail, dedupe_key=key)
    notify_many(workspace, _recipients(workspace, account), Notice(
        CHURN_KIND, title, gettext_noop("A customer deleted the staff account %(account)s (%(userid)s). "
                                        "Channel: %(state)s."),
        reverse("customers:customer", args=[customer.pk]), key, params))


@events.subscribe(CapacityAlert)
def alert_capacity(workspace: Workspace, event: CapacityAlert, record: EventRecord) -> None:
    account = (StaffAccount.objects.for_workspace(workspace).select_related("operator")
               .filter(pk=event.account_id).first())
    if account is None:
        return
    notify_many(workspace, _recipients(workspace, account), Notice(
        CAPACITY_KIND, gettext_noop("%(account)s is %(level)s%% full"),
        gettext_noop("%(count)s friends of a limit of %(limit)s: route new customers to other accounts."),
        reverse("accounts:home"), f"capacity:{record.pk}",
        {"account": str(account), "level": event.level, "count": event.friend_count,
         "limit": event.friend_limit}))


@events.subscribe(TransferFailed)
def keep_transfer_failed(workspace: Workspace, event: TransferFailed, record: EventRecord) -> None:
    """The customer refused, or the takeover was full: the transfer ends now, not at the next poll."""
    record_transfer_failed(workspace, takeover_userid=event.staff_userid, external_userid=event.external_userid,
                           reason=event.fail_reason, at=event.occurred_at)
