"""Query budget: a read is one query (the object, the caller's access and its rows together)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import (
    COUNTERPART_ONE,
    ENTITY_ONE,
    ENTITY_USER,
    PARTNER,
    PARTNER_CLIENT_ID,
    PARTNER_CLIENT_TWO_ID,
    SOME_TEST,
)
from tests.rest.conftest import JSON, TokenFactory, body, url

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("email", "path"),
    [
        (PARTNER, url("counterparts", COUNTERPART_ONE)),
        (ENTITY_USER, url("counterparts", COUNTERPART_ONE)),
        (PARTNER_CLIENT_ID, url("counterparts", COUNTERPART_ONE)),
        (PARTNER_CLIENT_ID, url("entities", ENTITY_ONE)),
        (SOME_TEST, url("accounts", "A-154321")),
        (SOME_TEST, url("account_users", SOME_TEST)),
        (SOME_TEST, url("properties", "1")),
    ],
)
def test_get_costs_one_query(
    token_for: TokenFactory, django_assert_max_num_queries: Any, email: str, path: str
) -> None:
    client = Client()
    headers = {"Authorization": f"Bearer {token_for(email)}", "X-Monite-Entity-Id": ENTITY_ONE}
    client.put(path, body({"a": 1, "b": [1, 2]}), content_type=JSON, headers=headers)
    assert client.get(path, headers=headers).status_code == 200  # warms the ContentType cache
    with django_assert_max_num_queries(1):
        response = client.get(path, headers=headers)
    assert response.json() == {"metadata": {"a": 1, "b": [1, 2]}}


def test_a_refused_read_costs_no_more(
    token_for: TokenFactory, django_assert_max_num_queries: Any
) -> None:
    client = Client()
    headers = {"Authorization": f"Bearer {token_for(SOME_TEST)}"}
    client.get(url("accounts", "A-154321"), headers=headers)
    with django_assert_max_num_queries(1):
        assert client.get(url("accounts", "A-12345"), headers=headers).status_code == 404
    with django_assert_max_num_queries(0):
        assert client.get(url("accounts", "A-12345")).status_code == 401


@pytest.mark.parametrize(
    "path",
    [url("counterparts", COUNTERPART_ONE), url("accounts", "A-154321"), url("properties", "1")],
)
def test_a_partner_clients_refused_read_costs_one_query(
    token_for: TokenFactory, django_assert_max_num_queries: Any, path: str
) -> None:
    """Client two serves Entity Two only: a counterpart of Entity One is resolved and refused
    in one query; an account or property, outside every entity, is refused without being
    looked up (the one query checks that the client still acts for an active user)."""
    client = Client()
    headers = {"Authorization": f"Bearer {token_for(PARTNER_CLIENT_TWO_ID)}"}
    client.get(path, headers=headers)
    with django_assert_max_num_queries(1):
        assert client.get(path, headers=headers).status_code == 404
