"""Hostile bodies over real HTTP: each gets a clear 4xx and changes nothing (issue 6)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from metadata.models import Metadata, MetadataChange, User
from metadata.tokens import access_token_for
from tests.conftest import COUNTERPART_ONE, PARTNER
from tests.live import LiveServer

PATH = f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata"
JSON = {"Content-Type": "application/json"}


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"[" * min(size, total - sent)
        sent += size


def deep(levels: int) -> bytes:
    return b'{"metadata": {"k": ' + b"[" * levels + b"]" * levels + b"}}"


# (name, body, extra headers, expected status)
BODIES: list[tuple[str, object, dict[str, str], int]] = [
    ("not json", b"{metadata: 1}", JSON, 400),
    ("truncated", b'{"metadata": {"a": ', JSON, 400),
    ("NaN", b'{"metadata": {"a": NaN}}', JSON, 400),
    ("Infinity", b'{"metadata": {"a": -Infinity}}', JSON, 400),
    ("invalid utf-8", b'{"metadata": {"a": "\xff\xfe"}}', JSON, 400),
    ("lone surrogate", b'{"metadata": {"a": "\\ud800"}}', JSON, 400),
    ("NUL in a value", b'{"metadata": {"a": "x\\u0000y"}}', JSON, 422),
    ("NUL in a key", b'{"metadata": {"a\\u0000": 1}}', JSON, 422),
    ("control character key", b'{"metadata": {"a\\nb": 1}}', JSON, 422),
    ("white-space key", b'{"metadata": {" \\t": 1}}', JSON, 422),
    ("101-character key", json.dumps({"metadata": {"k" * 101: 1}}).encode(), JSON, 422),
    ("number overflowing to infinity", b'{"metadata": {"a": 1e400}}', JSON, 422),
    ("integer of 5000 digits", b'{"metadata": {"a": ' + b"9" * 5000 + b"}}", JSON, 400),
    ("depth 17", deep(17), JSON, 422),
    ("depth 100000", deep(100_000), JSON, 413),
    (
        "20000 keys",
        json.dumps({"metadata": {f"k{i}": 0 for i in range(20000)}}).encode(),
        JSON,
        413,
    ),
    (
        "3000 small keys",
        json.dumps({"metadata": {f"k{i}": 0 for i in range(3000)}}).encode(),
        JSON,
        422,
    ),
    ("metadata not an object", b'{"metadata": [1, 2]}', JSON, 422),
    ("body not an object", b"[1, 2]", JSON, 422),
    ("empty body", b"", JSON, 400),
    ("wrong content type", b'{"metadata": {}}', {"Content-Type": "text/plain"}, 415),
    (
        "form content type",
        b"metadata=1",
        {"Content-Type": "application/x-www-form-urlencoded"},
        415,
    ),
    ("10 MB declared", b"[" * (10 * 1024 * 1024), JSON, 413),
]


@pytest.fixture
def partner_headers(live_demo: LiveServer) -> dict[str, str]:
    token = access_token_for(User.objects.get(email=PARTNER))
    return {"Authorization": f"Bearer {token}"}


def state() -> tuple[int, int]:
    return Metadata.objects.count(), MetadataChange.objects.count()


@pytest.mark.parametrize(("name", "body", "headers", "status"), BODIES, ids=[b[0] for b in BODIES])
def test_a_hostile_body_gets_a_clear_4xx_and_changes_nothing(
    live_demo: LiveServer,
    partner_headers: dict[str, str],
    name: str,
    body: bytes,
    headers: dict[str, str],
    status: int,
) -> None:
    before = state()
    for method in ("PUT", "PATCH"):
        response = requests.request(
            method,
            live_demo.url + PATH,
            data=body,
            headers={**partner_headers, **headers},
            timeout=60,
        )
        assert response.status_code == status, (name, method, response.text[:300])
        error = response.json()["error"]
        assert error["message"] and error["type"]
        assert "Traceback" not in response.text
    assert state() == before


def test_a_10_mb_body_without_a_declared_length_is_refused(
    live_demo: LiveServer, partner_headers: dict[str, str]
) -> None:
    before = state()
    response = requests.put(
        live_demo.url + PATH,
        data=chunks(10 * 1024 * 1024),
        headers={**partner_headers, **JSON},
        timeout=60,
    )
    assert response.status_code in {400, 411, 413}, response.text[:300]
    assert state() == before
    assert requests.get(live_demo.url + "/healthz", timeout=10).status_code == 200
