"""Nightly pruning of the connector's history: stored callbacks, refused callbacks and the
API-call log, by age and status, in short batches; callbacks not yet processed always stay."""

from __future__ import annotations

import datetime as dt
import itertools

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from siyu.wecom.models import ApiCall, CallbackRejection, InboundEvent, InboundStatus
from siyu.wecom.tasks import prune_history

keys = itertools.count()


def callback(workspace, days_old: float, status: str) -> InboundEvent:
    row = InboundEvent.unscoped.create(workspace=workspace, dedupe_key=f"k{next(keys)}", kind="change_external_contact",
                                       raw_xml="<xml/>", status=status)
    InboundEvent.unscoped.filter(pk=row.pk).update(received_at=timezone.now() - dt.timedelta(days=days_old))
    return row


def api_call(workspace, days_old: float) -> ApiCall:
    row = ApiCall.unscoped.create(workspace=workspace, endpoint="externalcontact/get", errcode=0)
    ApiCall.unscoped.filter(pk=row.pk).update(at=timezone.now() - dt.timedelta(days=days_old))
    return row


def rejection(workspace, days_old: float) -> CallbackRejection:
    row = CallbackRejection.unscoped.create(workspace=workspace, reason="bad_signature")
    CallbackRejection.unscoped.filter(pk=row.pk).update(at=timezone.now() - dt.timedelta(days=days_old))
    return row


def kept(*rows) -> list[bool]:
    return [type(row).unscoped.filter(pk=row.pk).exists() for row in rows]


def test_old_rows_go_young_and_failed_ones_stay_longer_and_unprocessed_ones_always(db, brand_a, brand_b):
    ws = brand_a.workspace
    gone = [
        callback(ws, 31, InboundStatus.PROCESSED),
        callback(brand_b.workspace, 91, InboundStatus.FAILED),
        callback(ws, 91, InboundStatus.UNKNOWN),
        rejection(ws, 91),
        api_call(ws, 15),
    ]
    stay = [
        callback(ws, 29, InboundStatus.PROCESSED),
        callback(ws, 60, InboundStatus.FAILED),  # failed, and young enough for a failed callback
        callback(ws, 60, InboundStatus.UNKNOWN),
        callback(ws, 500, InboundStatus.RECEIVED),  # never processed: kept whatever its age
        rejection(ws, 29),
        api_call(ws, 13),
    ]
    deleted = prune_history.call()
    assert deleted == {"wecom.InboundEvent": 3, "wecom.CallbackRejection": 1, "wecom.ApiCall": 1}
    assert kept(*gone) == [False] * len(gone)
    assert kept(*stay) == [True] * len(stay)
    assert prune_history.call() == {}


def test_the_ages_come_from_the_settings(db, brand_a, settings):
    ws = brand_a.workspace
    processed, failed, call = callback(ws, 3, InboundStatus.PROCESSED), callback(ws, 3, InboundStatus.FAILED), api_call(ws, 3)
    settings.SIYU = {**settings.SIYU, "RETAIN_EVENTS_DAYS": 2, "RETAIN_FAILED_EVENTS_DAYS": 0, "RETAIN_API_CALLS_DAYS": 0}
    prune_history.call()
    assert kept(processed, failed, call) == [False, True, True]  # 0: kept forever


def test_the_api_call_log_is_deleted_in_chunks(db, brand_a):
    old = [api_call(brand_a.workspace, 20) for _ in range(5)]
    young = api_call(brand_a.workspace, 1)
    with CaptureQueriesContext(connection) as queries:
        assert prune_history.call(batch_size=2) == {"wecom.ApiCall": 5}
    table = ApiCall._meta.db_table
    name = connection.ops.quote_name(table)
    deletes = [q["sql"] for q in queries if q["sql"].startswith("DELETE") and q["sql"].split()[2] == name]
    assert len(deletes) == 3  # 2 + 2 + 1
    assert kept(*old, young) == [False] * 5 + [True]


def test_refused_callbacks_go_after_30_days_and_a_flooded_brand_keeps_only_its_newest(db, brand_a, brand_b, settings):
    settings.SIYU = {**settings.SIYU, "RETAIN_REJECTIONS_MAX_ROWS": 3}
    month_old = rejection(brand_a.workspace, 31)
    flood = [rejection(brand_a.workspace, 1) for _ in range(5)]
    other_brand = [rejection(brand_b.workspace, 2) for _ in range(3)]
    assert prune_history.call() == {"wecom.CallbackRejection": 3}
    assert kept(month_old, *flood, *other_brand) == [False, False, False] + [True] * 6
    assert prune_history.call() == {}
