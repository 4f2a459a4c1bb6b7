"""The REST door over real HTTP: gunicorn, `requests`, the demo data committed.

What the Django test client cannot show: real header parsing, real Content-Length and
chunked bodies, gunicorn workers answering JSON for every error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from metadata import rules
from tests.conftest import (
    COUNTERPART_ONE,
    COUNTERPART_TWO,
    ENTITY_ONE,
    ENTITY_USER_ID,
    PARTNER_CLIENT_ID,
    PARTNER_CLIENT_SECRET,
)
from tests.live import LiveServer

pytestmark = pytest.mark.live

PATH = f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata"
TIMEOUT = 10


def token(server: LiveServer, **grant: str) -> str:
    response = requests.post(f"{server.url}/v1/auth/token", json=grant, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    assert response.json()["expires_in"] == 3600
    return response.json()["access_token"]


def partner_token(server: LiveServer) -> str:
    return token(
        server,
        grant_type="client_credentials",
        client_id=PARTNER_CLIENT_ID,
        client_secret=PARTNER_CLIENT_SECRET,
    )


def error_of(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Request-Id"]
    return response.json()["error"]


def test_the_seeds_curl_calls_work_as_written(live_demo: LiveServer) -> None:
    """PUT, GET, then PUT `{}` as the seed shows, with a bare token from /v1/auth/token."""
    bare = token(
        live_demo,
        grant_type="entity_user",
        client_id=PARTNER_CLIENT_ID,
        client_secret=PARTNER_CLIENT_SECRET,
        entity_user_id=ENTITY_USER_ID,
    )
    url = f"{live_demo.url}{PATH}"
    headers = {"X-Monite-Entity-Id": ENTITY_ONE, "Authorization": bare}
    seed_body = '{\n"metadata": {\n"external_id": "id_6c8f1262fdbc",\n"comment": ""\n}\n}'
    document = {"external_id": "id_6c8f1262fdbc", "comment": ""}

    put = requests.put(
        url,
        data=seed_body,
        headers={**headers, "Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert put.status_code == 200, put.text
    assert put.json() == {"metadata": document}
    assert put.headers["ETag"] == rules.document_etag(document)
    assert put.headers["X-Monite-Entity-Id"] == ENTITY_ONE

    get = requests.get(url, headers=headers, timeout=TIMEOUT)
    assert get.json() == {"metadata": document}
    assert get.headers["ETag"] == put.headers["ETag"]

    delete = requests.put(
        url,
        data='{"metadata": {}}',
        headers={**headers, "Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert delete.json() == {"metadata": {}}
    assert requests.get(url, headers=headers, timeout=TIMEOUT).json() == {"metadata": {}}


def test_writes_patch_and_conditions_over_http(live_demo: LiveServer) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {partner_token(live_demo)}"
    url = f"{live_demo.url}{PATH}"

    etag = session.put(url, json={"metadata": {"a": 1, "b": 2}}, timeout=TIMEOUT).headers["ETag"]
    patched = session.patch(
        url,
        data=json.dumps({"metadata": {"b": None, "c": 3}}),
        headers={"Content-Type": "application/merge-patch+json", "If-Match": etag},
        timeout=TIMEOUT,
    )
    assert patched.json() == {"metadata": {"a": 1, "c": 3}}
    stale = session.put(url, json={"metadata": {}}, headers={"If-Match": etag}, timeout=TIMEOUT)
    assert error_of(stale, 412)["type"] == "precondition_failed"
    assert session.get(url, timeout=TIMEOUT).json() == {"metadata": {"a": 1, "c": 3}}

    exact = session.put(url, json={"metadata": {"k": "x" * 1992}}, timeout=TIMEOUT)
    assert exact.status_code == 200
    over = session.put(url, json={"metadata": {"k": "x" * 1993}}, timeout=TIMEOUT)
    assert "2001 bytes" in error_of(over, 422)["message"]
    escaped = json.dumps({"metadata": {"k": "€" * 664}}, ensure_ascii=True)
    accepted = session.put(
        url, data=escaped, headers={"Content-Type": "application/json"}, timeout=TIMEOUT
    )
    assert accepted.json() == {"metadata": {"k": "€" * 664}}


def test_every_error_is_json_over_http(live_demo: LiveServer) -> None:
    url = f"{live_demo.url}{PATH}"
    auth = {"Authorization": f"JWT {partner_token(live_demo)}"}

    no_token = requests.get(url, timeout=TIMEOUT)
    assert error_of(no_token, 401)["type"] == "not_authenticated"
    assert no_token.headers["WWW-Authenticate"].startswith("Bearer")
    assert error_of(requests.get(url, headers={"Authorization": "x"}, timeout=TIMEOUT), 401)

    missing = f"{live_demo.url}/v1/counterparts/{COUNTERPART_TWO[:-1]}9/partner_metadata"
    assert error_of(requests.get(missing, headers=auth, timeout=TIMEOUT), 404)
    unknown = f"{live_demo.url}/v1/widgets/1/partner_metadata"
    assert error_of(requests.get(unknown, headers=auth, timeout=TIMEOUT), 404)

    deleted = requests.delete(url, headers=auth, timeout=TIMEOUT)
    assert error_of(deleted, 405)["type"] == "method_not_allowed"
    assert deleted.headers["Allow"] == "GET, PUT, PATCH, HEAD"

    nan = requests.put(
        url,
        data='{"metadata": {"a": NaN}}',
        headers={**auth, "Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert error_of(nan, 400)["type"] == "not_json"
    form = requests.put(url, data={"metadata": "x"}, headers=auth, timeout=TIMEOUT)
    assert error_of(form, 415)["type"] == "unsupported_media_type"
    huge = requests.put(url, json={"metadata": {"k": "x" * 70_000}}, headers=auth, timeout=TIMEOUT)
    assert error_of(huge, 413)["type"] == "payload_too_large"


def test_a_chunked_body_is_refused_without_being_read(live_demo: LiveServer) -> None:
    """Without Content-Length, WSGI hands Django no body: a 400 that says so, never a 5xx."""
    url = f"{live_demo.url}{PATH}"
    auth = {"Authorization": f"Bearer {partner_token(live_demo)}"}

    def chunks(text: str) -> Iterator[bytes]:
        data = text.encode()
        for start in range(0, len(data), 1024):
            yield data[start : start + 1024]

    for text in (json.dumps({"metadata": {"a": 1}}), json.dumps({"metadata": "x" * 100_000})):
        response = requests.put(
            url,
            data=chunks(text),
            headers={**auth, "Content-Type": "application/json"},
            timeout=TIMEOUT,
        )
        assert "Content-Length" in error_of(response, 400)["message"]
    assert requests.get(url, headers=auth, timeout=TIMEOUT).json() == {"metadata": {}}
