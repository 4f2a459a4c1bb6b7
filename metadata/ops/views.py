"""Liveness and readiness for load balancers and orchestrators (contract section 10)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from metadata.errors import Unavailable


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the process serves; it checks nothing else on purpose."""
    return JsonResponse({"status": "ok"})


def _database_problem() -> str | None:
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        return "database: not reachable"
    if pending:
        return f"database: {len(pending)} migrations not applied"
    return None


def _redis_problem() -> str | None:
    if not settings.REDIS_URL:
        return None
    try:
        client = cache.client.get_client(write=True)  # type: ignore[attr-defined]
        client.ping()
    except Exception:
        return "redis: not reachable"
    return None


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers with every migration applied (and Redis, if configured)."""
    problems = [p for p in (_database_problem(), _redis_problem()) if p]
    if problems:
        response = JsonResponse({"status": "unavailable", "problems": problems}, status=503)
        response["Retry-After"] = str(Unavailable.retry_after_seconds)
        return response
    return JsonResponse({"status": "ready"})
