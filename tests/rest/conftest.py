"""Helpers for the REST door's tests: URLs, headers and the store's state."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from metadata.models import Metadata, MetadataChange

JSON = "application/json"


def url(collection: str, identifier: str) -> str:
    return f"/v1/{collection}/{identifier}/partner_metadata"


def body(document: Any) -> str:
    return json.dumps({"metadata": document})


def store_state() -> tuple[list[tuple[Any, ...]], int]:
    """Every metadata row and the number of audit entries: what a refused write must not touch."""
    rows = list(
        Metadata.objects.order_by("content_type_id", "object_id", "key").values_list(
            "content_type_id", "object_id", "key", "value"
        )
    )
    return rows, MetadataChange.objects.count()


class Api:
    """The Django test client, speaking JSON with one user's token."""

    def __init__(self, client: Client, token: str | None) -> None:
        self.client = client
        self.token = token

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        sent = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**sent, **(extra or {})}

    def get(self, path: str, query: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.client.get(path, query, headers=self.headers(headers))

    def put(self, path: str, data: Any, content_type: str = JSON, **headers: str) -> Any:
        return self.client.put(path, data, content_type=content_type, headers=self.headers(headers))

    def patch(self, path: str, data: Any, content_type: str = JSON, **headers: str) -> Any:
        return self.client.patch(
            path, data, content_type=content_type, headers=self.headers(headers)
        )

    def generic(self, method: str, path: str, data: Any = "", **headers: str) -> Any:
        return self.client.generic(
            method, path, data, content_type=JSON, headers=self.headers(headers)
        )


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Every test starts with empty rate-limit counters (they live in the shared cache)."""
    cache.clear()


ApiFactory = Callable[[str | None], Api]
TokenFactory = Callable[[str], str]


@pytest.fixture
def api_as(token_for: TokenFactory) -> ApiFactory:
    """`api_as(email)`: a JSON client with that demo user's token (None: no token)."""

    def make(email: str | None) -> Api:
        return Api(Client(), token_for(email) if email else None)

    return make


def assert_error(response: Any, status: int, error_type: str | None = None) -> dict[str, Any]:
    """The door's error form: JSON `{"error": {"type", "message"}}` with the status."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == JSON
    payload = response.json()
    assert set(payload["error"]) == {"type", "message"}
    assert payload["error"]["message"]
    if error_type is not None:
        assert payload["error"]["type"] == error_type, payload
    return payload
