"""The demo's phones: the twin's "phone" of the staff member with the newest friend has a chat
with that friend open, so the sidebar (`/m/demo/staff/`) shows a customer as soon as the staff
member is picked on the twin's WeCom sign-in page."""

from __future__ import annotations

from siyu.core.models import Workspace
from siyu.customers.models import FollowRelation
from siyu.wecom import twin
from siyu.wecom.services import connection_of


def seed(workspace: Workspace) -> None:
    connection = connection_of(workspace)
    newest = (FollowRelation.objects.for_workspace(workspace).filter(deleted_at=None)
              .select_related("account", "customer").order_by("-added_at").first())
    if connection is None or newest is None:
        return
    twin.act(connection.api_base, "phone/open_chat", {
        "corpid": connection.corp_id, "userid": newest.account.userid,
        "external_userid": newest.customer.external_userid})
