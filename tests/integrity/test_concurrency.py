"""No lost update under concurrency (issue 5), against a live multi-worker gunicorn.

Sixteen writers start together behind a barrier, in several rounds, through REST and GraphQL.
Every writer must get a 2xx or a clean 4xx; what is committed must be exactly what the
successful writers wrote. SQLite runs the same tests: its writers queue on the database lock
(BEGIN IMMEDIATE), which is the serialised behaviour the contract allows.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from metadata.models import MetadataChange, User
from metadata.rules import MAX_DOCUMENT_BYTES, document_size
from metadata.tokens import access_token_for
from tests.conftest import COUNTERPART_ONE, PARTNER
from tests.live import LiveServer

WRITERS = 16
ROUNDS = 3
REST_PATH = f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata"
ACCOUNT_PATH = "/v1/accounts/A-154321/partner_metadata"
UPDATE = """
mutation updateMetadata($input: MetadataInput!) {
  updateMetadata(input: $input) { metadata { key value } }
}
"""


def together(count: int, work: Callable[[int], requests.Response]) -> list[requests.Response]:
    """Run `work(i)` for i in range(count) at once: every thread waits for the others first."""
    barrier = threading.Barrier(count)

    def run(index: int) -> requests.Response:
        barrier.wait(timeout=30)
        return work(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


class Gateway:
    def __init__(self, server: LiveServer) -> None:
        self.url = server.url
        token = str(access_token_for(User.objects.get(email=PARTNER)))
        self.headers = {"Authorization": f"Bearer {token}"}

    def rest(self, method: str, path: str, document: Any = None) -> requests.Response:
        body = None if document is None else {"metadata": document}
        return requests.request(
            method, self.url + path, json=body, headers=self.headers, timeout=60
        )

    def document(self, path: str) -> dict[str, Any]:
        response = self.rest("GET", path)
        assert response.status_code == 200, response.text
        return response.json()["metadata"]

    def update(self, key: str, value: Any, identifier: str = "A-154321") -> requests.Response:
        variables = {
            "input": {
                "linkedObjectType": "ACCOUNT",
                "identifier": identifier,
                "key": key,
                "value": json.dumps(value),
            }
        }
        return requests.post(
            f"{self.url}/v1/graphql/",
            json={"query": UPDATE, "variables": variables},
            headers=self.headers,
            timeout=60,
        )


@pytest.fixture
def gateway(busy_demo: LiveServer) -> Gateway:
    return Gateway(busy_demo)


def statuses(responses: list[requests.Response]) -> list[int]:
    return [response.status_code for response in responses]


def test_concurrent_patches_of_different_keys_all_survive(gateway: Gateway) -> None:
    for round_ in range(ROUNDS):
        assert gateway.rest("PUT", REST_PATH, {}).status_code == 200
        responses = together(
            WRITERS, lambda i, r=round_: gateway.rest("PATCH", REST_PATH, {f"r{r}_k{i}": i})
        )
        assert statuses(responses) == [200] * WRITERS
        assert gateway.document(REST_PATH) == {f"r{round_}_k{i}": i for i in range(WRITERS)}


def test_concurrent_update_metadata_and_patch_on_one_object_all_survive(
    gateway: Gateway,
) -> None:
    for round_ in range(ROUNDS):
        assert gateway.rest("PUT", ACCOUNT_PATH, {}).status_code == 200

        def write(i: int, r: int = round_) -> requests.Response:
            if i % 2:
                return gateway.rest("PATCH", ACCOUNT_PATH, {f"r{r}_k{i}": [i]})
            return gateway.update(f"r{r}_k{i}", [i])

        responses = together(WRITERS, write)
        assert statuses(responses) == [200] * WRITERS
        for response in responses:
            assert "errors" not in response.json(), response.text
        assert gateway.document(ACCOUNT_PATH) == {f"r{round_}_k{i}": [i] for i in range(WRITERS)}


def test_concurrent_puts_never_mix_documents(gateway: Gateway) -> None:
    for round_ in range(ROUNDS):
        documents = [
            {"writer": i, "round": round_, **{f"key{j}_{i}": j for j in range(5)}}
            for i in range(WRITERS)
        ]
        responses = together(
            WRITERS, lambda i, docs=documents: gateway.rest("PUT", REST_PATH, docs[i])
        )
        assert statuses(responses) == [200] * WRITERS
        final = gateway.document(REST_PATH)
        assert final in documents


def test_the_size_limit_holds_for_the_document_as_committed(gateway: Gateway) -> None:
    value = "x" * 300  # one key fits easily; sixteen are 2.5 times the limit
    for round_ in range(ROUNDS):
        assert gateway.rest("PUT", REST_PATH, {}).status_code == 200
        responses = together(
            WRITERS, lambda i, r=round_: gateway.rest("PATCH", REST_PATH, {f"r{r}_{i:02d}": value})
        )
        codes = statuses(responses)
        assert set(codes) <= {200, 422}, codes
        assert 0 < codes.count(200) < WRITERS
        final = gateway.document(REST_PATH)
        assert document_size(final) <= MAX_DOCUMENT_BYTES
        written = {f"r{round_}_{i:02d}" for i, code in enumerate(codes) if code == 200}
        assert set(final) == written
        for response in responses:
            if response.status_code == 422:
                assert "the limit is 2000" in response.json()["error"]["message"]


def test_concurrent_writers_of_one_key_leave_one_written_value(gateway: Gateway) -> None:
    for round_ in range(ROUNDS):
        before = MetadataChange.objects.count()
        responses = together(
            WRITERS, lambda i, r=round_: gateway.update("same", {"writer": i, "r": r})
        )
        assert statuses(responses) == [200] * WRITERS
        final = gateway.document(ACCOUNT_PATH)["same"]
        assert final in [{"writer": i, "r": round_} for i in range(WRITERS)]
        assert MetadataChange.objects.count() - before == WRITERS
        newest = MetadataChange.objects.filter(key="same").order_by("-id").first()
        assert newest is not None and newest.new_value == final
