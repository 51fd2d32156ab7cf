"""Moving the welcome state from the follow relation to the channels app's records keeps every
relation's outcome, and moving back restores it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("channels", "0002_initial"), ("customers", "0009_churn_package_subscriber_names")]
AFTER = [("channels", "0003_welcome_records"), ("customers", "0010_welcome_state_moves_to_channels")]


def migrate(targets=None):
    """Migrate to `targets`; without them, to the latest migration of every app."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.slow
def test_each_relations_welcome_outcome_moves_to_a_record_and_back(transactional_db, brand_a):
    try:
        old = migrate(BEFORE)
        account = old.get_model("accounts", "StaffAccount")._base_manager.create(
            workspace_id=brand_a.workspace.pk, userid="xiaowanzi01")
        customer_model = old.get_model("customers", "Customer")
        relation_model = old.get_model("customers", "FollowRelation")
        at = timezone.now().replace(microsecond=0) - dt.timedelta(days=1)
        made = {}
        for n, (status, note) in enumerate([("sent", "Sent within 2.1 s"), ("missed", "41051"), ("pending", "")]):
            customer = customer_model._base_manager.create(workspace_id=brand_a.workspace.pk, external_userid=f"wm{n}")
            made[status] = relation_model._base_manager.create(
                workspace_id=brand_a.workspace.pk, customer=customer, account=account, added_at=at,
                welcome_status=status, welcome_note=note).pk
        lost_first = customer_model._base_manager.create(workspace_id=brand_a.workspace.pk, external_userid="wmLOST")
        relation_model._base_manager.create(workspace_id=brand_a.workspace.pk, customer=lost_first, account=account,
                                            added_at=at, times_added=0, deleted_at=at)

        new = migrate(AFTER)
        records = new.get_model("channels", "WelcomeRecord")._base_manager
        assert {r.relation_id: (r.status, r.note, r.added_at) for r in records.all()} == {
            made["sent"]: ("sent", "Sent within 2.1 s", at), made["missed"]: ("missed", "41051", at),
            made["pending"]: ("pending", "", at)}  # a loss seen before its add was never welcomed

        back = migrate(BEFORE)
        relations = back.get_model("customers", "FollowRelation")._base_manager
        assert relations.get(pk=made["missed"]).welcome_status == "missed"
        assert relations.get(pk=made["sent"]).welcome_note == "Sent within 2.1 s"
    finally:
        migrate()
