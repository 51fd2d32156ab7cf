"""生命周期规则 — reading and changing the brand's lifecycle and super-user policy. A change is
validated as a whole (weights, ordered thresholds), audit-logged, and followed by a recompute of
every customer of the brand after commit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.core.models import AuditAction, Membership, Workspace
from siyu.core.permissions import Action, Module, allows, require, role_of
from siyu.core.queue import enqueue
from siyu.core.services import audit_change, change
from siyu.lifecycle.models import AngelMode, LifecyclePolicy

WEIGHT_FIELDS = ("weight_recency", "weight_frequency", "weight_spend", "weight_engagement", "weight_referrals")
INT_FIELDS = (
    "engaged_days", "dormant_days", "customer_orders", "repeat_orders", *WEIGHT_FIELDS,
    "recency_days", "frequency_cap", "spend_cap_fen", "engagement_cap", "referrals_cap", "angel_count",
)
FLOAT_FIELDS = ("super_score", "tier_s", "tier_a", "tier_b", "angel_share", "angel_min_score")
POLICY_FIELDS = (*INT_FIELDS, *FLOAT_FIELDS, "angel_mode")

# Recomputes every customer of a brand, in slices (`enqueue(RECOMPUTE_TASK, workspace_id)`).
RECOMPUTE_TASK = "siyu.lifecycle.tasks.recompute_brand"
MAX_DAYS = 3650
MAX_WEIGHT = 1000


def policy_for(workspace: Workspace) -> LifecyclePolicy:
    """The brand's policy, created with the defaults the first time it is asked for."""
    found = LifecyclePolicy.objects.for_workspace(workspace).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return LifecyclePolicy.objects.create(workspace=workspace)
    except IntegrityError:  # created meanwhile by another request or worker
        return LifecyclePolicy.objects.for_workspace(workspace).get()


def get_policy(workspace: Workspace, membership: Membership | None) -> LifecyclePolicy:
    require(role_of(membership), Module.CUSTOMERS, Action.VIEW)
    return policy_for(workspace)


def policy_for_editing(workspace: Workspace, membership: Membership | None) -> LifecyclePolicy:
    """The policy, for a member who may change it (PermissionDenied otherwise)."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    return policy_for(workspace)


def can_edit(membership: Membership | None) -> bool:
    role = role_of(membership)
    return role is not None and allows(role, Module.CUSTOMERS, Action.EDIT)


def policy_values(policy: LifecyclePolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in POLICY_FIELDS}


def _number(value: Any, kind: type) -> int | float | None:
    if isinstance(value, bool):
        return None
    try:
        number = kind(value)
    except (TypeError, ValueError):
        return None
    if kind is int and float(value) != number:
        return None
    return number


def clean_policy(values: Mapping[str, Any]) -> dict[str, Any]:
    """The policy values, typed, or a ValidationError naming every field that is wrong."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for field in INT_FIELDS:
        number = _number(values.get(field), int)
        if number is None:
            fail(field, _("Enter a whole number."))
        elif number < 0:
            fail(field, _("Must be 0 or more."))
        else:
            clean[field] = number
    for field in FLOAT_FIELDS:
        number = _number(values.get(field), float)
        if number is None or number != number:  # NaN
            fail(field, _("Enter a number."))
        elif not 0 <= number <= 100:
            fail(field, _("Must be between 0 and 100."))
        else:
            clean[field] = number
    mode = values.get("angel_mode")
    if mode not in AngelMode.values:
        fail("angel_mode", _("Choose how angel users are picked."))
    else:
        clean["angel_mode"] = mode
    if errors:
        raise ValidationError(errors)

    weights = [clean[f] for f in WEIGHT_FIELDS]
    if not any(weights):
        fail("weight_recency", _("At least one weight must be above 0."))
    for field in WEIGHT_FIELDS:
        if clean[field] > MAX_WEIGHT:
            fail(field, _("At most %(n)s.") % {"n": MAX_WEIGHT})
    for field in ("engaged_days", "dormant_days", "recency_days"):
        if not 1 <= clean[field] <= MAX_DAYS:
            fail(field, _("Between 1 and %(n)s days.") % {"n": MAX_DAYS})
    if clean["engaged_days"] > clean["dormant_days"]:
        fail("dormant_days", _("Dormant must come after engaged: at least the engaged days."))
    if clean["customer_orders"] < 1:
        fail("customer_orders", _("A customer has at least 1 order."))
    if clean["repeat_orders"] <= clean["customer_orders"]:
        fail("repeat_orders", _("A repeat buyer needs more orders than a customer."))
    for field in ("frequency_cap", "spend_cap_fen", "engagement_cap", "referrals_cap"):
        if clean[field] < 1:
            fail(field, _("Must be at least 1."))
    if not clean["tier_s"] > clean["tier_a"] > clean["tier_b"]:
        fail("tier_a", _("Tier cut-offs must go down: S above A above B."))
    if clean["angel_mode"] == AngelMode.SHARE and clean["angel_share"] <= 0:
        fail("angel_share", _("The share must be above 0%."))
    if clean["angel_mode"] == AngelMode.COUNT and clean["angel_count"] < 1:
        fail("angel_count", _("Pick at least 1 angel user."))
    if errors:
        raise ValidationError(errors)
    return clean


def update_policy(workspace: Workspace, membership: Membership | None, changes: Mapping[str, Any]) -> LifecyclePolicy:
    """Change some or all of the policy's values. Validated together with the values not
    changed; audit-logged (`SETTINGS_CHANGED`, each changed value old → new); every customer is
    recomputed after commit."""
    require(role_of(membership), Module.CUSTOMERS, Action.EDIT)
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError({"__all__": [_("Unknown settings: %(names)s.") % {"names": ", ".join(sorted(unknown))}]})
    with transaction.atomic():
        policy = policy_for(workspace)
        policy = LifecyclePolicy.objects.for_workspace(workspace).select_for_update().get(pk=policy.pk)
        before = policy_values(policy)
        clean = clean_policy({**before, **changes})
        changed = {k: [before[k], v] for k, v in clean.items() if before[k] != v}
        if not changed:
            return policy
        for name, value in clean.items():
            setattr(policy, name, value)
        policy.updated_by = membership.user if membership else None
        policy.save()
        audit_change(workspace, membership, AuditAction.SETTINGS_CHANGED, module="lifecycle",
                     subject=gettext_lazy("lifecycle policy"), name="", target="lifecycle policy",
                     changes=[change(_meta_label(k), _shown(k, old), _shown(k, new)) for k, (old, new) in changed.items()],
                     data={"changed": changed})
        enqueue(RECOMPUTE_TASK, workspace.pk)
    return policy


def _meta_label(name: str) -> Any:
    return _policy_field(name).verbose_name


def _shown(name: str, value: Any) -> Any:
    """A choice by its label, for the audit log."""
    field = _policy_field(name)
    return dict(field.flatchoices).get(value, value) if field.choices else value


def _policy_field(name: str) -> Any:
    return LifecyclePolicy._meta.get_field(name)
