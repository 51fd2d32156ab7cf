"""自动打标签规则 — rule-based auto-tagging: a rule puts its tag on every customer matching one
condition (channel code, lifecycle stage, custom field, or "added ≥ N days ago and never engaged").

Rules run when a follow starts and when a customer changes (`CustomersChanged`, except changes
of tags, so tagging never loops), nightly for the time-based ones, and on demand. They only add
tags, through `tag_customers` (source RULE), which skips tags already there: running a rule
again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.core.contract import channel_directory
from siyu.core.models import AuditAction, Membership, Workspace
from siyu.core.permissions import Action, Module, Seat, require, role_of
from siyu.core.services import OPERATOR, audit_change, change, fact
from siyu.customers.channel_codes import channel_refs
from siyu.customers.models import Customer, FollowRelation, LifecycleStage
from siyu.tags.models import CustomerTag, RuleKind, Tag, TagRule, TagSource
from siyu.tags.services import tagging

FIELD_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
FIELD_OPS = ("equals", "contains")
MAX_STATES = 50
MAX_DAYS = 3650
RUN_BATCH = 2_000  # customers tagged per `tag_customers` call in a full run


@dataclass(frozen=True)
class RuleInput:
    name: str
    tag_id: int
    kind: str
    params: dict[str, Any]
    enabled: bool = True


def _clean_params(workspace: Workspace, kind: str, params: dict[str, Any]) -> dict[str, Any]:
    def fail(message: str) -> ValidationError:
        return ValidationError({"params": [message]})

    if kind == RuleKind.CHANNEL:
        states = params.get("states") or []
        if isinstance(states, str):
            states = re.split(r"[,，\s]+", states)
        states = sorted({str(s).strip() for s in states if str(s).strip()})
        if not states or len(states) > MAX_STATES or any(len(s) > 64 for s in states):
            raise fail(_("Give one to %(n)s channel code states.") % {"n": MAX_STATES})
        if channel_directory() is not None:  # with the channels app, a state is one of its codes'
            unknown = [s for s, ref in sorted(channel_refs(workspace, states).items()) if not ref.known]
            if unknown:
                raise fail(_("No channel code of this brand has the state %(states)s; pick codes from the list.")
                           % {"states": "、".join(f"“{s}”" for s in unknown)})
        return {"states": states}
    if kind == RuleKind.STAGE:
        stages = params.get("stages") or []
        if isinstance(stages, str):
            stages = re.split(r"[,，\s]+", stages)
        stages = sorted({str(s).strip() for s in stages if str(s).strip()})
        if not stages or any(s not in LifecycleStage.values for s in stages):
            raise fail(_("Choose lifecycle stages among: %(stages)s.") % {"stages": ", ".join(LifecycleStage.values)})
        return {"stages": stages}
    if kind == RuleKind.FIELD:
        key, op, value = str(params.get("key") or "").strip(), str(params.get("op") or "equals"), params.get("value")
        if not FIELD_KEY.match(key) or "__" in key:
            raise fail(_("Give the custom field's key (letters, digits, - and _)."))
        if op not in FIELD_OPS:
            raise fail(_("The comparison is “equals” or “contains”."))
        if value in (None, ""):
            raise fail(_("Give the value to compare with."))
        return {"key": key, "op": op, "value": str(value)[:200]}
    if kind == RuleKind.BEHAVIOUR:
        try:
            days = int(params.get("days", 0))
        except (TypeError, ValueError):
            days = 0
        if not 1 <= days <= MAX_DAYS:
            raise fail(_("Give a number of days from 1 to %(n)s.") % {"n": MAX_DAYS})
        return {"days": days}
    raise ValidationError({"kind": [_("Choose a condition.")]})


def _matching(workspace: Workspace, rule: TagRule, now: dt.datetime) -> QuerySet[Customer]:
    customers = Customer.objects.for_workspace(workspace)
    params = rule.params
    if rule.kind == RuleKind.CHANNEL:
        through = FollowRelation.unscoped.filter(customer_id=OuterRef("pk"), deleted_at__isnull=True,
                                                 state__in=params["states"])
        return customers.filter(Exists(through))
    if rule.kind == RuleKind.STAGE:
        return customers.filter(stage__in=params["stages"])
    if rule.kind == RuleKind.FIELD:
        key, value = params["key"], params["value"]
        if params["op"] == "contains":
            return customers.filter(**{f"fields__{key}__icontains": value})
        match = Q(**{f"fields__{key}": value})
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            match |= Q(**{f"fields__{key}": int(number) if number.is_integer() else number})
        return customers.filter(match)
    if rule.kind == RuleKind.BEHAVIOUR:
        return customers.filter(last_engaged_at__isnull=True,
                                first_added_at__lte=now - dt.timedelta(days=params["days"]))
    return customers.none()


def _untagged(workspace: Workspace, rule: TagRule, now: dt.datetime) -> QuerySet[Customer]:
    has = CustomerTag.unscoped.filter(customer_id=OuterRef("pk"), tag_id=rule.tag_id)
    return _matching(workspace, rule, now).exclude(Exists(has))


# --- managing rules ---------------------------------------------------------------------------

def list_rules(workspace: Workspace, membership: Membership | None) -> list[TagRule]:
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    return list(TagRule.objects.for_workspace(workspace).select_related("tag", "tag__group"))


def create_rule(workspace: Workspace, membership: Seat | None, data: RuleInput) -> TagRule:
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    name = (data.name or "").strip()
    if not name or len(name) > 60:
        raise ValidationError({"name": [_("Enter a name of at most 60 characters.")]})
    tag = Tag.objects.for_workspace(workspace).filter(pk=data.tag_id, deleted_at__isnull=True).first()
    if tag is None:
        raise ValidationError({"tag": [_("Choose a tag.")]})
    if data.kind not in RuleKind.values:
        raise ValidationError({"kind": [_("Choose a condition.")]})
    params = _clean_params(workspace, data.kind, data.params)
    rule = TagRule.objects.create(workspace=workspace, name=name, tag=tag, kind=data.kind, params=params,
                                  enabled=data.enabled)
    audit_change(workspace, membership, AuditAction.CREATED, module="tags", subject=gettext_lazy("auto-tag rule"), name=name,
                 facts=[fact(gettext_lazy("tag"), tag.name), fact(gettext_lazy("condition"), RuleKind(data.kind).label)])
    return rule


def set_enabled(workspace: Workspace, membership: Membership | None, rule_id: int, enabled: bool) -> TagRule:
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    rule = TagRule.objects.for_workspace(workspace).get(pk=rule_id)
    was = rule.enabled
    rule.enabled = enabled
    rule.save(update_fields=["enabled"])
    if was != enabled:
        audit_change(workspace, membership, AuditAction.UPDATED, module="tags", subject=gettext_lazy("auto-tag rule"),
                     name=rule.name, changes=[change(gettext_lazy("enabled"), was, enabled)])
    return rule


def delete_rule(workspace: Workspace, membership: Membership | None, rule_id: int) -> None:
    """Delete a rule; the tags it put on customers stay."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    rule = TagRule.objects.for_workspace(workspace).get(pk=rule_id)
    rule.delete()
    audit_change(workspace, membership, AuditAction.DELETION, module="tags", subject=gettext_lazy("auto-tag rule"),
                 name=rule.name)


# --- running rules ----------------------------------------------------------------------------

def run_rule(workspace: Workspace, membership: Seat | None, rule_id: int,
             now: dt.datetime | None = None) -> int:
    """运行 — tag every customer the rule matches who lacks its tag, now. Returns links added."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    now = now or timezone.now()
    rule = TagRule.objects.for_workspace(workspace).select_related("tag").get(pk=rule_id)
    if rule.tag.deleted_at is not None:
        raise ValidationError(_("The rule's tag was deleted; the rule cannot run."))
    added = 0
    last_id = 0
    while True:
        batch = list(_untagged(workspace, rule, now).filter(pk__gt=last_id).order_by("pk")
                     .values_list("pk", flat=True)[:RUN_BATCH])
        if not batch:
            break
        added += tagging.tag_customers(workspace, membership, batch, [rule.tag_id], source=TagSource.RULE)
        last_id = batch[-1]
    TagRule.unscoped.filter(pk=rule.pk).update(last_run_at=now, last_run_tagged=added)
    return added


def apply_rules(workspace: Workspace, customer_ids: Iterable[int], *, kinds: Iterable[str] | None = None,
                now: dt.datetime | None = None) -> int:
    """Run the brand's enabled rules (of these kinds) over these customers only: what a follow
    start or a customer change calls. Returns links added."""
    ids = sorted(set(customer_ids))
    if not ids:
        return 0
    now = now or timezone.now()
    rules = TagRule.objects.for_workspace(workspace).filter(enabled=True, tag__deleted_at__isnull=True)
    if kinds is not None:
        rules = rules.filter(kind__in=list(kinds))
    added = 0
    for rule in rules:
        matched = list(_untagged(workspace, rule, now).filter(pk__in=ids).values_list("pk", flat=True))
        if matched:
            added += tagging.tag_customers(workspace, OPERATOR, matched, [rule.tag_id],
                                           source=TagSource.RULE)
    return added


def run_time_rules(workspace: Workspace, now: dt.datetime | None = None) -> int:
    """Nightly: run the behaviour rules in full (customers cross their day threshold by time
    passing alone, with no event to tell us)."""
    added = 0
    for rule_id in TagRule.objects.for_workspace(workspace).filter(
            enabled=True, kind=RuleKind.BEHAVIOUR, tag__deleted_at__isnull=True).values_list("pk", flat=True):
        added += run_rule(workspace, OPERATOR, rule_id, now)
    return added
