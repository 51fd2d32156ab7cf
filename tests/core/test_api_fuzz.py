"""A bounded property test of the whole JSON API: schemathesis reads `/api/openapi.json` and sends
generated requests, valid ones and deliberately invalid ones (negative mode), to every operation
through the real WSGI application, as an admin of a seeded brand with an API token. Whatever it
sends, the answer is never a 5xx (`not_a_server_error`).

Deterministic (`derandomize`, no example database) and small (`MAX_EXAMPLES` a mode and an
operation), so it runs in well under a minute on SQLite and on PostgreSQL; the probe of issue 11
ran the same checks with 30,661 cases."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

MAX_EXAMPLES = 8
TALLY: Counter[str] = Counter()


@pytest.fixture
def brand_key(brand_a: Any) -> str:
    """The admin's API token of a brand with a little of everything: staff, customers (one
    churned), a custom field, a channel code, a tag, a segment. Not connected to WeCom, so the
    routes that would call it answer that it is not connected."""
    from siyu.accounts.models import StaffAccount
    from siyu.channels.models import ChannelCode
    from siyu.core import services as core
    from siyu.customers import services as customers
    from siyu.customers.models import CustomField, DeletedBy
    from siyu.segments import services as segments
    from siyu.tags.models import Tag, TagGroup
    from tests.conftest import seat

    ws = brand_a.workspace
    admin = seat(brand_a.admin, ws)
    now = timezone.now().replace(microsecond=0)
    for userid in ("xiaowanzi01", "xiaowanzi02"):
        StaffAccount.objects.create(workspace=ws, userid=userid, name=userid)
    for number in range(3):
        customers.record_add(ws, staff_userid="xiaowanzi01", external_userid=f"wm{number}", state="chstore",
                             at=now - dt.timedelta(days=number))
    customers.record_loss(ws, staff_userid="xiaowanzi01", external_userid="wm2", at=now, by=DeletedBy.CUSTOMER)
    CustomField.objects.create(workspace=ws, key="spend", label="消费", kind="number")
    ChannelCode.objects.create(workspace=ws, name="南京西路店", touchpoint="store", state="chstore")
    group = TagGroup.objects.create(workspace=ws, name="等级", wecom_group_id="etGROUP")
    Tag.objects.create(workspace=ws, group=group, name="金卡", wecom_tag_id="etTAG")
    segments.create_segment(ws, admin, segments.SegmentInput("全部"))
    _token, key = core.create_api_token(ws, admin, "fuzz")
    return key


@pytest.fixture
def _requests_keep_the_connection() -> Iterator[None]:
    """Django closes the database connection when a request finishes; inside the test's
    transaction that would end the test, so (as Django's test client does) not here."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="module", autouse=True)
def _tally() -> Iterator[None]:
    TALLY.clear()
    yield
    print(f"\nAPI fuzz: {TALLY['cases']} cases, {TALLY['5xx']} server errors, by status class {dict(TALLY)}")


def _schema() -> Any:
    """The API's own OpenAPI document (what `/api/openapi.json` serves to a signed-in caller),
    its cases sent through the WSGI application the server runs. Read at collection, so each
    operation is a test of its own. (`schemathesis.pytest.from_fixture` would load it through
    HTTP, but its lazy tests do not run under pytest 9.2.)"""
    from siyu.api import api
    from siyu.wsgi import application

    loaded = schemathesis.openapi.from_dict(api.get_openapi_schema())
    loaded.app = application
    loaded.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, database="none",
                                    with_security_parameters=False)
    return loaded


schema = _schema()


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
@pytest.mark.usefixtures("_requests_keep_the_connection")
def test_no_request_makes_a_server_error(case: Any, brand_key: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {brand_key}"})
    TALLY["cases"] += 1
    TALLY[f"{response.status_code // 100}xx"] += 1
    case.validate_response(response, checks=[not_a_server_error])
