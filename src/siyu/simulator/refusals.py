"""What WeCom will not let a server do in a customer group (WECOM.md §10): remove a member, reply
in the group automatically, or set its notice. Those are the owner's or the admin console's
(防骚扰, keyword auto-reply). The twin answers the paths a hopeful integration would try with
WeCom's refusal, so tests can prove Siyu never assumes it can: moderation and complaints end in
tasks for people, and no call to any path here is ever made (see tests/moderation).

The errcode is 48002, WeCom's "api forbidden" (the app may not call this API); its errmsg says
which, like WeCom's own hint text.
"""

from __future__ import annotations

from typing import Any

from siyu.simulator.api import Endpoint
from siyu.simulator.params import Body, Query
from siyu.simulator.world import ApiError, World

API_FORBIDDEN = 48002

# Plausible paths, none of which exists for customer groups at WeCom.
KICK_PATHS = (
    "externalcontact/groupchat/del_member",
    "externalcontact/groupchat/remove_member",
    "externalcontact/groupchat/kick",
    "externalcontact/groupchat/update",
)
REPLY_PATHS = (
    "externalcontact/groupchat/send",
    "externalcontact/groupchat/send_msg",
    "externalcontact/groupchat/auto_reply",
    "externalcontact/groupchat/set_notice",
)
REFUSED_PATHS = KICK_PATHS + REPLY_PATHS


def _refuse(what: str) -> Any:
    def handler(world: World, query: Query, body: Body) -> dict[str, Any]:
        raise ApiError(API_FORBIDDEN, f"api forbidden, hint: {what} is not open to apps for customer groups")
    return handler


ENDPOINTS: dict[str, Endpoint] = {
    **{path: Endpoint("POST", _refuse("removing a member")) for path in KICK_PATHS},
    **{path: Endpoint("POST", _refuse("sending or replying in a customer group")) for path in REPLY_PATHS[:3]},
    REPLY_PATHS[3]: Endpoint("POST", _refuse("setting the group notice")),
}
