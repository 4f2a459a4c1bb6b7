"""Helpers for the GraphQL door's tests: post a query, read Kraken's error extensions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from metadata.graphql.view import document_cache
from metadata.models import Metadata, MetadataChange, User
from metadata.tokens import access_token_for
from tests.conftest import DEMO_FIXTURE
from tests.live import LiveServer, start_gunicorn

URL = "/v1/graphql/"

UPDATE = """
mutation updateMetadata($input: MetadataInput!) {
  updateMetadata(input: $input) { metadata { key value digest } }
}
"""
CREATE = """
mutation createMetadata($input: MetadataInput!) {
  createMetadata(input: $input) { metadata { key value } }
}
"""
DELETE = """
mutation deleteMetadata($input: DeleteMetadataInput!) {
  deleteMetadata(input: $input) { metadata { key value } }
}
"""
READ = """
query metadata($type: LinkedObjectType!, $id: String!) {
  metadata(linkedObjectType: $type, identifier: $id) { key value digest }
}
"""
READ_KEY = """
query metadataForKey($type: LinkedObjectType!, $id: String!, $key: String!) {
  metadataForKey(linkedObjectType: $type, identifier: $id, key: $key) { key value digest }
}
"""
TOKEN = """
mutation obtainKrakenToken($input: ObtainJSONWebTokenInput!) {
  obtainKrakenToken(input: $input) { token payload refreshToken refreshExpiresIn }
}
"""


def token_of(email: str) -> str:
    """An access token for a user already in the database (live tests commit the demo data)."""
    return str(access_token_for(User.objects.get(email=email)))


def metadata_input(
    key: str = "some_unique_key",
    value: str = '{"pet_type": "dog", "name": "fang"}',
    *,
    linked_object_type: str = "ACCOUNT",
    identifier: str = "A-154321",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "input": {
            "linkedObjectType": linked_object_type,
            "identifier": identifier,
            "key": key,
            "value": value,
            **extra,
        }
    }


def post(
    client: Client,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    authorization: str | None = None,
    **extra: Any,
) -> Any:
    headers = {"Authorization": authorization} if authorization is not None else {}
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return client.post(URL, body, content_type="application/json", headers=headers, **extra)


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert len(body["errors"]) == 1, body
    return body["errors"][0]


def extensions(body: dict[str, Any]) -> dict[str, Any]:
    return only_error(body)["extensions"]


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """Tests that count parses start from an empty document cache; rate limits from zero."""
    document_cache.clear()
    cache.clear()


@pytest.fixture
def gql(db: None, request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Post a GraphQL request as a demo user (by email; None sends no Authorization header).

    The demo data is loaded on the first request made as a user, so anonymous-only tests
    (limits, malformed requests) skip its cost. Returns the response; `.json()` is the body.
    """
    client = Client()

    def run(
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        as_user: str | None = "partner@example.com",
        scheme: str = "JWT",
        **extra: Any,
    ) -> Any:
        authorization = None
        if as_user is not None:
            token = request.getfixturevalue("token_for")(as_user)
            authorization = f"{scheme} {token}".strip() if scheme else token
        return post(client, query, variables, authorization=authorization, **extra)

    return run


@pytest.fixture(scope="package")
def kraken_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[LiveServer]:
    """gunicorn over the demo data, committed once for this package's live tests.

    Not the shared `live_demo`: that flushes the database after every test, and each flush
    recreates the content types under new ids, which a long-lived server process has
    already cached (`ContentType.objects.get_for_model`), so its next metadata write fails
    a foreign key. Here the data (and the content types) stay put while the server runs;
    `kraken` clears only metadata rows between tests.
    """
    with django_db_blocker.unblock():
        call_command("loaddata", str(DEMO_FIXTURE), verbosity=0)
    server = start_gunicorn(workers=2)
    try:
        yield server
    finally:
        server.stop()
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def kraken(kraken_server: LiveServer, django_db_blocker: Any) -> Iterator[LiveServer]:
    """The package's live server, no metadata stored; the test may use the database."""
    with django_db_blocker.unblock():
        Metadata.objects.all().delete()
        MetadataChange.objects.all().delete()
        yield kraken_server
