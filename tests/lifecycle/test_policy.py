"""The lifecycle policy: defaults on first use, validation that explains, audit, roles, and a
recompute after every change."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from siyu.core.models import AuditAction, AuditEntry
from siyu.customers.models import LifecycleStage
from siyu.lifecycle.models import LifecyclePolicy
from siyu.lifecycle.services import get_policy, policy_for, update_policy
from tests.conftest import seat, work_until
from tests.lifecycle.conftest import add, days_ago, fresh


def test_the_policy_is_created_once_with_the_defaults(brand_a):
    first, again = policy_for(brand_a.workspace), policy_for(brand_a.workspace)
    assert first.pk == again.pk and LifecyclePolicy.objects.for_workspace(brand_a.workspace).count() == 1
    assert (first.engaged_days, first.dormant_days, first.super_score, first.tier_s, first.tier_a, first.tier_b) == \
        (30, 60, 80, 80, 60, 40)


@pytest.mark.parametrize(("changes", "field"), [
    ({"weight_recency": 0, "weight_frequency": 0, "weight_spend": 0, "weight_engagement": 0, "weight_referrals": 0},
     "weight_recency"),
    ({"weight_spend": -1}, "weight_spend"),
    ({"engaged_days": 90, "dormant_days": 60}, "dormant_days"),
    ({"customer_orders": 2, "repeat_orders": 2}, "repeat_orders"),
    ({"customer_orders": 0}, "customer_orders"),
    ({"tier_s": 50, "tier_a": 60}, "tier_a"),
    ({"super_score": 120}, "super_score"),
    ({"angel_mode": "everyone"}, "angel_mode"),
    ({"angel_mode": "share", "angel_share": 0}, "angel_share"),
    ({"engaged_days": "soon"}, "engaged_days"),
    ({"spend_cap_fen": 0}, "spend_cap_fen"),
])
def test_an_invalid_policy_is_refused_with_the_field_to_fix(brand_a, changes, field):
    admin = seat(brand_a.admin, brand_a.workspace)
    with pytest.raises(ValidationError) as refused:
        update_policy(brand_a.workspace, admin, changes)
    assert field in refused.value.message_dict
    assert policy_for(brand_a.workspace).weight_recency == 25  # nothing saved


def test_a_change_is_audit_logged_with_old_and_new_values(brand_a):
    admin = seat(brand_a.admin, brand_a.workspace)
    update_policy(brand_a.workspace, admin, {"dormant_days": 90, "weight_referrals": 30})
    entry = AuditEntry.objects.for_workspace(brand_a.workspace).get(action=AuditAction.SETTINGS_CHANGED)
    assert entry.actor == brand_a.admin and entry.target == "lifecycle policy"
    assert entry.detail["changed"] == {"dormant_days": [60, 90], "weight_referrals": [10, 30]}


def test_saving_the_same_values_changes_and_logs_nothing(brand_a):
    admin = seat(brand_a.admin, brand_a.workspace)
    update_policy(brand_a.workspace, admin, {"dormant_days": 60})
    assert not AuditEntry.objects.for_workspace(brand_a.workspace).filter(action=AuditAction.SETTINGS_CHANGED).exists()


@pytest.mark.parametrize("role", ["planner", "data_analyst", "merchandiser"])
def test_roles_that_only_view_customers_may_read_but_not_change_the_policy(brand_a, role):
    member = seat(brand_a.members[role], brand_a.workspace)
    assert get_policy(brand_a.workspace, member).dormant_days == 60
    with pytest.raises(PermissionDenied):
        update_policy(brand_a.workspace, member, {"dormant_days": 90})


def test_a_role_without_customers_access_may_not_read_the_policy(brand_a):
    with pytest.raises(PermissionDenied):
        get_policy(brand_a.workspace, seat(brand_a.members["copywriter"], brand_a.workspace))


def test_a_policy_change_recomputes_every_customer_in_the_background(transactional_db, brand_a):
    ws = brand_a.workspace
    customer = add(ws, when=days_ago(40))
    work_until(lambda: fresh(customer).stage == LifecycleStage.NEW)  # the add's own recompute
    update_policy(ws, seat(brand_a.members["customer_ops"], ws), {"engaged_days": 10, "dormant_days": 30})
    assert work_until(lambda: fresh(customer).stage == LifecycleStage.DORMANT)


def test_a_policy_change_reads_as_labelled_values_in_the_audit_log(brand_a):
    from tests.support.audit import last_words

    update_policy(brand_a.workspace, seat(brand_a.admin, brand_a.workspace), {"dormant_days": 90})
    assert last_words(brand_a.workspace) == "alpha-admin [lifecycle/settings_changed] 生命周期策略：沉睡判定天数：60 → 90"
