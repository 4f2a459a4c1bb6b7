"""Operations endpoints, the per-request log line and the metrics (contract section 10)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import requests
from django.test import Client

from metadata.models import User
from tests.live import start_gunicorn


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict] = []
        from pythonjsonlogger.json import JsonFormatter

        self.setFormatter(JsonFormatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def request_log() -> Iterator[Capture]:
    logger = logging.getLogger("metadata.requests")
    handler = Capture()
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_healthz(db: None) -> None:
    response = Client().get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_on_a_migrated_database(db: None) -> None:
    response = Client().get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


def test_every_response_carries_a_request_id(db: None) -> None:
    client = Client()
    generated = client.get("/healthz")["X-Request-Id"]
    assert len(generated) == 32
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")["X-Request-Id"] == "abc-123"
    hostile = client.get("/healthz", HTTP_X_REQUEST_ID="a\tb" * 100)["X-Request-Id"]
    assert hostile != "a\tb" * 100 and len(hostile) == 32


def test_one_log_line_per_request_without_secrets(
    demo: None, request_log: Capture, token_for
) -> None:
    token = token_for("partner@example.com")
    Client().get("/healthz", HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_REQUEST_ID="req-42")
    [line] = request_log.lines
    assert line["message"] == "request"
    assert {k: line[k] for k in ("request_id", "door", "method", "path", "status")} == {
        "request_id": "req-42",
        "door": "ops",
        "method": "GET",
        "path": "/healthz",
        "status": 200,
    }
    assert isinstance(line["duration_ms"], float)
    assert "user_id" in line
    assert token not in json.dumps(line)


@pytest.mark.parametrize("door", ["rest", "graphql"])
def test_the_log_line_names_the_caller_of_either_door(
    demo: None, request_log: Capture, token_for, door: str
) -> None:
    token = token_for("partner@example.com")
    headers = {"Authorization": f"Bearer {token}"}
    if door == "rest":
        path = "/v1/counterparts/3a9c5e1e-0000-4000-8000-000000000011/partner_metadata"
        response = Client().get(path, headers=headers)
    else:
        query = '{ metadata(linkedObjectType: ACCOUNT, identifier: "A-154321") { key } }'
        response = Client().post(
            "/v1/graphql/", {"query": query}, content_type="application/json", headers=headers
        )
    assert response.status_code == 200 and b"errors" not in response.content, response.content
    [line] = request_log.lines
    assert line["door"] == door
    assert line["user_id"] == str(User.objects.get(email="partner@example.com").pk)


def test_metrics_count_requests_per_door_for_loopback_only(db: None) -> None:
    client = Client()
    client.get("/healthz")
    body = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'gateway_requests_total{door="ops",method="GET",status="200"}' in body
    assert "gateway_request_duration_seconds_bucket" in body
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404


def test_readyz_names_a_stopped_database(db: None) -> None:
    server = start_gunicorn(
        workers=1, extra_env={"DATABASE_URL": "postgres://postgres@127.0.0.1:9/none"}
    )
    try:
        assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 200
        response = requests.get(f"{server.url}/readyz", timeout=30)
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "problems": ["database: not reachable"]}
    finally:
        server.stop()


def test_readyz_names_unapplied_migrations(db: None, tmp_path) -> None:
    empty = tmp_path / "empty.sqlite3"
    server = start_gunicorn(workers=1, extra_env={"DATABASE_URL": f"sqlite:///{empty}"})
    try:
        response = requests.get(f"{server.url}/readyz", timeout=30)
        assert response.status_code == 503
        [problem] = response.json()["problems"]
        assert problem.startswith("database: ") and problem.endswith("migrations not applied")
    finally:
        server.stop()
