"""自动打标签 — a channel code's auto-tags, applied to each new friend with `mark_tag`.

WECOM.md §0: a change made through the API fires no callback, so the platform records what it
tagged itself: the customer's tags (source "channel", so segments and tag completeness see them)
and a TAGGED timeline entry, one per add. Tag ids WeCom does not know (deleted, or
of another corp) would make `mark_tag` refuse the whole call, so the code's ids are first
looked up with `get_corp_tag_list`: the known ones are applied, the unknown ones recorded.
Marking the same tag twice changes nothing at WeCom, so a replay is harmless; the timeline
entry's dedupe key keeps the record single.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from siyu.channels.models import ChannelCode
from siyu.core.models import Workspace
from siyu.customers import services as customers
from siyu.customers.models import FollowRelation
from siyu.tags import services as tags
from siyu.tags.models import TagSource
from siyu.tags.timeline import TagTimeline
from siyu.wecom.client import WeComError
from siyu.wecom.services import NotConnected, client_for

logger = logging.getLogger("siyu.channels")


@dataclass(frozen=True)
class TagOutcome:
    applied: list[str]  # tag names (ids when WeCom gave no name)
    unknown: list[str]  # ids WeCom does not know
    error: str = ""


def _key(relation: FollowRelation) -> str:
    return f"tagged:{relation.pk}:{int(relation.added_at.timestamp())}"


def tag_new_friend(workspace: Workspace, *, staff_userid: str, external_userid: str, state: str,
                   at: dt.datetime) -> bool:
    """Keep the add, and if its channel code has auto-tags and this add was not tagged yet,
    apply them after the transaction commits (the database is not held during WeCom calls).
    True when tagging was scheduled. Call inside a transaction."""
    relation = customers.record_add(workspace, staff_userid=staff_userid, external_userid=external_userid,
                                    state=state, at=at)
    if relation.added_at != at or not state:
        return False
    code = ChannelCode.objects.for_workspace(workspace).filter(state=state, active=True).first()
    tag_ids = [str(t) for t in (code.auto_tag_ids if code else []) if str(t).strip()]
    if not tag_ids or customers.has_timeline(workspace, _key(relation)):
        return False
    transaction.on_commit(lambda: apply_tags(workspace, relation, tag_ids), robust=True)
    return True


def apply_tags(workspace: Workspace, relation: FollowRelation, tag_ids: list[str]) -> TagOutcome:
    """Mark the tags on the customer at WeCom and record the outcome on the timeline.
    WeCom's refusals are recorded, never raised."""
    userid, external_userid = relation.account.userid, relation.customer.external_userid
    try:
        with client_for(workspace) as client:
            names = {t.id: t.name for group in client.get_corp_tags(tag_ids=tag_ids) for t in group.tag
                     if not t.deleted}
            known = [t for t in tag_ids if t in names]
            if known:
                client.mark_tags(userid, external_userid, add=known)
        outcome = TagOutcome([names[t] or t for t in known], [t for t in tag_ids if t not in names])
        if known:
            tags.record_marked_tags(workspace, relation.customer_id, relation.account_id, known, TagSource.CHANNEL)
    except WeComError as exc:
        outcome = TagOutcome([], [], f"{exc.errcode} {exc.errmsg}")
    except NotConnected as exc:
        outcome = TagOutcome([], [], str(exc))
    except ValidationError as exc:  # marked at WeCom, but its tag list could not be read back
        outcome = TagOutcome([], [], "; ".join(exc.messages))
    if outcome.error:
        detail = _("Tags not applied: %(error)s") % {"error": outcome.error}
    else:
        detail = _("Tags applied: %(names)s") % {"names": "、".join(outcome.applied) or "—"}
        if outcome.unknown:
            detail += " · " + _("unknown to WeCom: %(ids)s") % {"ids": ", ".join(outcome.unknown)}
    if outcome.error or outcome.unknown:
        logger.warning("auto-tags of relation %s: %s", relation.pk, detail)
    customers.add_timeline(workspace, relation.customer, TagTimeline.TAGGED, relation.added_at,
                           account_id=relation.account_id, detail=detail, dedupe_key=_key(relation))
    return outcome
