"""The demo brand's 群活码: one code, 扫码福利群, whose first group already had 150 members when
it was bound; new WeChat users then scan its QR in the twin (`POST /twin/groups/scan`) until
WeCom has opened 扫码福利群2 and 扫码福利群3. Their callbacks reach Siyu like any other, and the
subscribers rotate the code, so within minutes of `make demo` the chain shows three
generations: two groups at the QR cap, unbound, and the newest taking joins."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from siyu.accounts.models import StaffAccount
from siyu.community import services as community
from siyu.community.models import CustomerGroup
from siyu.core.models import Workspace
from siyu.core.queue import enqueue
from siyu.core.services import OPERATOR
from siyu.groupcodes import services
from siyu.groupcodes.models import WECOM_QR_CAP, GroupCode
from siyu.wecom import twin
from siyu.wecom.services import connection_of

CODE_NAME = "门店海报群活码"
FIRST_GROUP = "扫码福利群1"
BASE_NAME = "扫码福利群"
FIRST_MEMBERS = 150  # guests in the first group when it is bound
# Enough to close the first group, fill the second to the QR cap, and start the third.
SCANS = (WECOM_QR_CAP - 1 - FIRST_MEMBERS) + (WECOM_QR_CAP - 1) + 40
RETRY_AFTER = dt.timedelta(minutes=2)
ATTEMPTS = 30


def _twin_base(workspace: Workspace) -> str | None:
    connection = connection_of(workspace)
    return connection.api_base if connection is not None and twin.twin_url(connection.api_base) else None


def seed(workspace: Workspace, attempt: int = 0) -> None:
    """Once per brand (the code exists: nothing to do). Until the brand has a staff account,
    looks again every two minutes through the worker."""
    api_base = _twin_base(workspace)
    if api_base is None or GroupCode.objects.for_workspace(workspace).filter(name=CODE_NAME).exists():
        return
    owner = StaffAccount.objects.for_workspace(workspace).filter(active=True).order_by("userid").first()
    if owner is None:
        if attempt < ATTEMPTS:
            enqueue("siyu.groupcodes.tasks.seed_demo", workspace.pk, attempt + 1,
                    run_after=timezone.now() + RETRY_AFTER)
        return
    group = CustomerGroup.objects.for_workspace(workspace).filter(name=FIRST_GROUP).first()
    if group is None:
        # The twin answers 201 for a new group, which `act` counts as not taken; the sync finds it.
        twin.act(api_base, "groups", {"owner": owner.userid, "name": FIRST_GROUP, "guests": FIRST_MEMBERS,
                                      "age_days": 10, "growth_days": 10})
        sync = community.start_sync(workspace, OPERATOR, enqueue=False)
        community.run_sync(workspace, sync.pk)
        group = CustomerGroup.objects.for_workspace(workspace).filter(name=FIRST_GROUP).first()
    if group is None:
        return
    code = services.create_code(workspace, OPERATOR, services.CodeInput(
        name=CODE_NAME, chat_ids=[group.chat_id], remark="门店海报", room_base_name=BASE_NAME, room_base_id=2,
        welcome=services.WelcomeInput(text="欢迎加入扫码福利群！新人礼在群公告里，记得领取～", kind="link",
                                      attachment={"title": "新人礼领取", "url": "https://example.com/welcome-gift"})))
    # The scans' callbacks reach the brand's callback URL; the worker rotates the code as they land.
    twin.act(api_base, "groups/scan", {"config_id": code.config_id, "count": SCANS, "name": "扫码顾客"})
