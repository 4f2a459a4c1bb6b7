"""Prometheus metrics: requests and latency per door, served at /metrics.

Under gunicorn with several workers set PROMETHEUS_MULTIPROC_DIR (the gunicorn config of
`make serve` does), so /metrics adds up every worker's samples.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from metadata.addresses import client_address, networks_of, parse_address

REQUESTS = Counter(
    "gateway_requests_total",
    "Requests answered, by door, method and status.",
    ["door", "method", "status"],
)
LATENCY = Histogram(
    "gateway_request_duration_seconds",
    "Time to answer a request, by door.",
    ["door"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
ERRORS = Counter(
    "gateway_server_errors_total", "Requests answered with a 5xx status, by door.", ["door"]
)


def observe(*, door: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(door=door, method=method, status=str(status)).inc()
    LATENCY.labels(door=door).observe(seconds)
    if status >= 500:
        ERRORS.labels(door=door).inc()


def _allowed(address: str) -> bool:
    ip = parse_address(address)
    allowed = networks_of(tuple(settings.METRICS_ALLOWED_IPS))
    return ip is not None and any(ip in network for network in allowed)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, to the addresses in METRICS_ALLOWED_IPS only (loopback); the
    client's address, behind a trusted proxy, not the proxy's."""
    if not _allowed(client_address(request.META)):
        return HttpResponse("Not found.\n", status=404, content_type="text/plain")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest()
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
