"""gunicorn configuration for `make serve` (gunicorn -c python:metadata_gateway.gunicorn).

Every setting can be overridden from the environment; the defaults suit one host with the
database elsewhere.

The application's settings are loaded here first, in the master, so a setting that refuses
to start (`metadata_gateway.startup`) stops gunicorn with its one-line message before any
worker boots; and several workers without Redis are refused (`on_starting`).
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import tempfile
from typing import Any

from metadata_gateway.startup import RefusedToStart, exit_with

try:
    _settings = importlib.import_module(
        os.environ.get("DJANGO_SETTINGS_MODULE", "metadata_gateway.settings")
    )
except RefusedToStart as error:
    exit_with(error)

bind = os.environ.get(
    "BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
# The gateway is I/O bound on the database: 2 x cores + 1 sync workers is gunicorn's advice.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# A read-many of 100 UUIDs (`?id=...` 100 times, contract section 12) is a ~4 KB request line,
# gunicorn's default limit: allow twice that. Longer lines are answered 414.
limit_request_line = 8190
# Recycle workers now and then so a slow leak can never grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "2000"))
# The application logs one JSON line per request (metadata.requests); gunicorn's own access
# log is off unless asked for, so requests are not logged twice.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Prometheus samples from every worker are added up through files in this folder.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="gateway-metrics-")


MSG_WORKERS_WITHOUT_REDIS = (
    "Set REDIS_URL: DEBUG is off and {workers} workers would each count rate limits alone "
    "(each would allow the full rate); or run one worker (WEB_CONCURRENCY=1), or accept "
    "per-worker limits with THROTTLE_PER_PROCESS=true."
)


def on_starting(server: Any) -> None:
    """Rate limits live in the cache: without Redis, each worker's own memory. Several workers
    would multiply every limit (the login limit guarding the password hasher included), so
    production refuses that instead of degrading silently."""
    workers = server.cfg.workers
    if (
        workers > 1
        and not _settings.DEBUG
        and not _settings.REDIS_URL
        and not _settings.THROTTLE_PER_PROCESS
    ):
        exit_with(RefusedToStart(MSG_WORKERS_WITHOUT_REDIS.format(workers=workers)))


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
