"""Conditional writes under contention (issue 20), against a live multi-worker gunicorn.

Sixteen writers read the same version, then all write conditionally on it at once, behind a
barrier: exactly one may win. The others must be told the version is stale (REST 412,
GraphQL `KT-CT-8412`), and only the winner's write may leave an audit entry and an event.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from metadata.models import MetadataChange, WebhookEvent
from tests.integrity.test_concurrency import ACCOUNT_PATH, REST_PATH, Gateway, together
from tests.live import LiveServer

WRITERS = 16
ROUNDS = 3

UPDATE_IF = """
mutation updateMetadata($input: MetadataInput!) {
  updateMetadata(input: $input) { metadata { key value digest } }
}
"""
READ = """
query read($identifier: String!, $key: String!) {
  metadataForKey(linkedObjectType: ACCOUNT, identifier: $identifier, key: $key) { value digest }
}
"""


@pytest.fixture
def gateway(busy_demo: LiveServer) -> Gateway:
    return Gateway(busy_demo)


def graphql(gateway: Gateway, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(
        f"{gateway.url}/v1/graphql/",
        json={"query": query, "variables": variables},
        headers=gateway.headers,
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()


def counts() -> tuple[int, int]:
    return MetadataChange.objects.count(), WebhookEvent.objects.count()


def test_one_of_sixteen_puts_with_the_same_if_match_wins(gateway: Gateway) -> None:
    for round_ in range(ROUNDS):
        base = gateway.rest("PUT", REST_PATH, {"version": "base"})
        assert base.status_code == 200, base.text
        etag = base.headers["ETag"]
        changes, events = counts()

        def write(i: int, r: int = round_, etag: str = etag) -> requests.Response:
            return requests.put(
                gateway.url + REST_PATH,
                json={"metadata": {"version": f"r{r}-w{i}"}},
                headers={**gateway.headers, "If-Match": etag},
                timeout=60,
            )

        responses = together(WRITERS, write)
        codes = [response.status_code for response in responses]
        assert sorted(codes) == [200] + [412] * (WRITERS - 1), codes
        winner = codes.index(200)
        for response in responses:
            if response.status_code == 412:
                assert response.json()["error"]["type"], response.text
        assert gateway.document(REST_PATH) == {"version": f"r{round_}-w{winner}"}
        assert counts() == (changes + 1, events + 1)


def test_one_of_sixteen_updates_with_the_same_compare_digest_wins(gateway: Gateway) -> None:
    for round_ in range(ROUNDS):
        assert gateway.update("version", "base").status_code == 200
        read = graphql(gateway, READ, {"identifier": "A-154321", "key": "version"})
        digest = read["data"]["metadataForKey"]["digest"]
        changes, events = counts()

        def write(i: int, r: int = round_, digest: str = digest) -> requests.Response:
            variables = {
                "input": {
                    "linkedObjectType": "ACCOUNT",
                    "identifier": "A-154321",
                    "key": "version",
                    "value": json.dumps(f"r{r}-w{i}"),
                    "compareDigest": digest,
                }
            }
            return requests.post(
                f"{gateway.url}/v1/graphql/",
                json={"query": UPDATE_IF, "variables": variables},
                headers=gateway.headers,
                timeout=60,
            )

        bodies = [response.json() for response in together(WRITERS, write)]
        won = [i for i, body in enumerate(bodies) if not body.get("errors")]
        assert len(won) == 1, bodies
        for i, body in enumerate(bodies):
            if i in won:
                continue
            (error,) = body["errors"]
            assert error["extensions"]["errorCode"] == "KT-CT-8412", body
            assert body["data"]["updateMetadata"] is None
        assert gateway.document(ACCOUNT_PATH)["version"] == f"r{round_}-w{won[0]}"
        assert counts() == (changes + 1, events + 1)
