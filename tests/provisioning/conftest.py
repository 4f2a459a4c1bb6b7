"""Fixtures for provisioning: the demo's provisioning client, its token, NDJSON bodies."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from metadata.models import PartnerClient, User
from metadata.tokens import access_token_for
from tests.conftest import PROVISIONING_CLIENT_ID

PROVISIONING_CLIENT_SECRET = "demo-provisioning-secret"
ROUTE = "/v1/provisioning/objects"
NDJSON = "application/x-ndjson"


def ndjson(*lines: dict[str, Any] | str) -> str:
    return "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()


@pytest.fixture
def provisioning_token(demo: None) -> str:
    """The demo provisioning client's client_credentials token (as the token route issues)."""
    client = PartnerClient.objects.get(pk=PROVISIONING_CLIENT_ID)
    return str(access_token_for(client.user, client=client))


@pytest.fixture
def provision(provisioning_token: str) -> Callable[..., Any]:
    """POST lines to the route with the provisioning token; the response."""

    def post(*lines: dict[str, Any] | str, token: str | None = provisioning_token) -> Any:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        return Client().post(ROUTE, ndjson(*lines), content_type=NDJSON, **headers)

    return post


def user(email: str) -> User:
    return User.objects.get(email=email)
