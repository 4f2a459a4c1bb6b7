"""A database host that accepts connections and never answers (issue 20).

A stopped PostgreSQL refuses connections at once (`test_database_restart`); a hung one, or
a network that drops packets, leaves the connection attempt waiting. `connect_timeout`
(DATABASE_CONNECT_TIMEOUT, 3 s by default) must turn that into a clean 503 well within a
client's timeout, rather than a worker stuck until gunicorn kills it. gunicorn here is
pointed at a listener that accepts and never says a word, so it runs on any test backend.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
import requests

from tests.conftest import COUNTERPART_ONE, PARTNER
from tests.live import LiveServer, silent_listener, start_gunicorn

CLIENT_TIMEOUT = 20  # seconds: several connect timeouts' worth, far below gunicorn's 60
READ = """
query read($identifier: String!) {
  metadata(linkedObjectType: ACCOUNT, identifier: $identifier) { key value }
}
"""


@pytest.fixture(scope="module")
def silent_database() -> Iterator[int]:
    """A database host that accepts every connection and never answers."""
    with silent_listener() as port:
        yield port


@pytest.fixture(scope="module")
def gateway_over_a_hung_database(silent_database: int) -> Iterator[LiveServer]:
    server = start_gunicorn(
        workers=2,
        extra_env={
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{silent_database}/gateway",
            "DATABASE_CONNECT_TIMEOUT": "2",
        },
    )
    yield server
    server.stop()


def test_every_door_answers_503_within_the_connect_timeout_when_the_database_hangs(
    gateway_over_a_hung_database: LiveServer, token_for: Callable[[str], str]
) -> None:
    url = gateway_over_a_hung_database.url
    headers = {"Authorization": f"Bearer {token_for(PARTNER)}"}
    rest = requests.get(
        f"{url}/v1/counterparts/{COUNTERPART_ONE}/partner_metadata",
        headers=headers,
        timeout=CLIENT_TIMEOUT,
    )
    assert rest.status_code == 503, rest.text
    assert rest.headers["Retry-After"] == "5"
    assert rest.json()["error"]["type"] == "service_unavailable"

    graphql = requests.post(
        f"{url}/v1/graphql/",
        data=json.dumps({"query": READ, "variables": {"identifier": "A-154321"}}),
        headers={**headers, "Content-Type": "application/json"},
        timeout=CLIENT_TIMEOUT,
    )
    assert graphql.status_code == 503, graphql.text
    assert graphql.headers["Retry-After"] == "5"
    assert graphql.json()["errors"][0]["extensions"]["errorCode"] == "KT-CT-0503"

    ready = requests.get(f"{url}/readyz", timeout=CLIENT_TIMEOUT)
    assert ready.status_code == 503
    assert ready.json()["problems"] == ["database: not reachable"]
    assert requests.get(f"{url}/healthz", timeout=CLIENT_TIMEOUT).status_code == 200
