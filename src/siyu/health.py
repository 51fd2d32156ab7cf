"""Probes for load balancers and service managers: `/healthz` (the process answers) and
`/readyz` (the database answers and every migration is applied). Plain text, no sign-in,
nothing about the brands."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return HttpResponse(f"database unavailable: {type(exc).__name__}\n", status=503, content_type="text/plain")
    if pending:
        return HttpResponse(f"{len(pending)} migration(s) not applied\n", status=503, content_type="text/plain")
    return HttpResponse("ready\n", content_type="text/plain")
