"""Fraud guards (防刷) for invites and rewards: the shared blacklist, and the signals of zombie
accounts (僵尸号: no avatar, a default nickname) that put a reward on the review queue."""

from __future__ import annotations

import re
from collections.abc import Iterable

from siyu.core.models import Workspace
from siyu.customers.models import Customer
from siyu.moderation.services import is_blacklisted

NO_AVATAR = "no_avatar"
DEFAULT_NICKNAME = "default_nickname"
BURST = "burst"
ZOMBIES = "zombies"

# Nicknames WeChat gives an account nobody named, and the patterns farms leave unchanged.
_DEFAULT_NICKNAME = re.compile(r"^(微信用户|wxid_[0-9a-z_]+|用户\d{4,}|user\d{4,}|\d{6,})$", re.IGNORECASE)


def blacklisted(workspace: Workspace, *, external_userid: str = "", unionid: str = "") -> bool:
    """Is this person on the brand's blacklist, the one shared with the community's groups
    (moderation's 群黑名单, by external_userid or unionid)?"""
    return is_blacklisted(workspace, external_userid=external_userid, unionid=unionid)


def zombie_signals(customer: Customer) -> list[str]:
    """The zombie signals of an invitee, from the profile WeCom gave (`externalcontact/get`)."""
    signals = []
    if not customer.avatar_url:
        signals.append(NO_AVATAR)
    name = (customer.name or "").strip()
    if not name or _DEFAULT_NICKNAME.match(name):
        signals.append(DEFAULT_NICKNAME)
    return signals


def is_zombie(signals: Iterable[str]) -> bool:
    """Both signals together: a real person often lacks one, a farmed account lacks both."""
    found = set(signals)
    return NO_AVATAR in found and DEFAULT_NICKNAME in found


def same_person(inviter: Customer, invitee: Customer) -> bool:
    """A self-invite: the same customer, or the same WeChat user (unionid) on a second device."""
    if inviter.pk == invitee.pk or inviter.external_userid == invitee.external_userid:
        return True
    return bool(inviter.unionid) and inviter.unionid == invitee.unionid
