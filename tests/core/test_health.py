"""`/healthz` and `/readyz`, for load balancers and service managers."""

from __future__ import annotations

import pytest

from tests.channels.test_welcome_migration import BEFORE, migrate


def test_healthz_answers_without_signing_in(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_ready_when_every_migration_is_applied(client, db):
    assert client.get("/readyz").status_code == 200


@pytest.mark.slow
def test_readyz_refuses_while_a_migration_is_not_applied(client, transactional_db):
    try:
        migrate(BEFORE)
        response = client.get("/readyz")
        assert response.status_code == 503 and b"not applied" in response.content
    finally:
        migrate()
    assert client.get("/readyz").status_code == 200
