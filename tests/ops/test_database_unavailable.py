"""How each door answers when the database fails a request (issue 20), on every backend.

`test_database_restart` proves the whole path on a real PostgreSQL that is stopped and
started again; it needs PostgreSQL. These tests inject the database's own exceptions into
the core's reads through the real doors, so the mapping (REST 503, GraphQL 503 with
`KT-CT-0503`, `Retry-After`, no database text) is checked on SQLite runs too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client

from metadata import selectors
from tests.conftest import COUNTERPART_ONE, PARTNER

SECRET_TEXT = "could not connect to server: Connection refused (port 5432)"
READ = """
query read($identifier: String!) {
  metadata(linkedObjectType: ACCOUNT, identifier: $identifier) { key value }
}
"""


@pytest.fixture(params=[OperationalError, InterfaceError])
def database_down(request: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(**kwargs: Any) -> Any:
        raise request.param(SECRET_TEXT)

    monkeypatch.setattr(selectors, "read_document", fail)


def test_rest_answers_503_with_retry_after_and_no_database_text(
    database_down: None, token_for: Callable[[str], str]
) -> None:
    response = Client().get(
        f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata",
        headers={"Authorization": f"Bearer {token_for(PARTNER)}"},
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["type"] == "service_unavailable"
    assert "retry after 5 seconds" in body["error"]["message"]
    assert "5432" not in response.content.decode()


def test_graphql_answers_503_with_a_kraken_error_and_retry_after(
    database_down: None, token_for: Callable[[str], str]
) -> None:
    response = Client().post(
        "/v1/graphql/",
        json.dumps({"query": READ, "variables": {"identifier": "A-154321"}}),
        content_type="application/json",
        headers={"Authorization": f"JWT {token_for(PARTNER)}"},
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.json()
    assert body["data"] == {"metadata": None}
    [error] = body["errors"]
    assert error["path"] == ["metadata"]
    assert error["extensions"] == {
        "errorType": "SERVICE_UNAVAILABLE",
        "errorCode": "KT-CT-0503",
        "errorDescription": "The service is temporarily unavailable.",
    }
    assert "5432" not in response.content.decode()


def test_other_graphql_errors_keep_http_200(token_for: Callable[[str], str]) -> None:
    """Only the database's absence changes the status; the contract's errors stay 200."""
    response = Client().post(
        "/v1/graphql/",
        json.dumps({"query": READ, "variables": {"identifier": "A-000000"}}),
        content_type="application/json",
        headers={"Authorization": f"JWT {token_for(PARTNER)}"},
    )
    assert response.status_code == 200
    assert "Retry-After" not in response
    assert response.json()["errors"][0]["extensions"]["errorCode"] == "KT-CT-4123"


def test_readiness_answers_503_with_retry_after(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from metadata.ops import views

    class Unreachable:
        def __init__(self, *args: Any) -> None:
            raise OperationalError(SECRET_TEXT)

    monkeypatch.setattr(views, "MigrationExecutor", Unreachable)
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["problems"] == ["database: not reachable"]
