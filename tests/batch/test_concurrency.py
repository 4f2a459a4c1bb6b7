"""Overlapping batches in opposite orders never deadlock, against a live multi-worker
gunicorn (the pattern of `tests/integrity/test_concurrency.py`).

Each round, four batches over the same 30 counterparts start together behind a barrier:
two in ascending order and two in descending order, through REST and GraphQL. Locking
each object as its item comes would deadlock them (PostgreSQL then kills one: a 500);
locking in one fixed order (content type, then primary key) makes them queue. Every
batch must succeed, and each object must end with the value of one of the writers.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from metadata.models import Counterpart, Entity, MetadataChange, User
from metadata.tokens import access_token_for
from tests.conftest import ENTITY_ONE, PARTNER
from tests.integrity.conftest import busy_demo, busy_server  # noqa: F401 - fixtures
from tests.integrity.test_concurrency import together
from tests.live import LiveServer

ROUNDS = 20
OBJECTS = 30
PATH = "/v1/counterparts/partner_metadata"
BATCH = """
mutation batch($input: [MetadataInput!]!) {
  updateMetadataBatch(input: $input) { metadata { key value } }
}
"""


@pytest.fixture
def objects(busy_demo: LiveServer) -> list[str]:  # noqa: F811
    entity = Entity.objects.get(pk=ENTITY_ONE)
    created = Counterpart.objects.bulk_create(
        [Counterpart(entity=entity, name=f"Race {i:02d}") for i in range(OBJECTS)]
    )
    return sorted(str(counterpart.pk) for counterpart in created)


def test_opposite_order_overlapping_batches_never_deadlock(
    busy_demo: LiveServer,  # noqa: F811
    objects: list[str],
) -> None:
    headers = {"Authorization": f"Bearer {access_token_for(User.objects.get(email=PARTNER))}"}
    ascending, descending = objects, list(reversed(objects))

    def rest(order: list[str], value: Any) -> requests.Response:
        body = {"data": [{"id": cp, "metadata": {"w": value}} for cp in order]}
        return requests.patch(busy_demo.url + PATH, json=body, headers=headers, timeout=60)

    def graphql(order: list[str], value: Any) -> requests.Response:
        pairs = [
            {
                "linkedObjectType": "COUNTERPART",
                "identifier": cp,
                "key": "w",
                "value": json.dumps(value),
            }
            for cp in order
        ]
        return requests.post(
            busy_demo.url + "/v1/graphql/",
            json={"query": BATCH, "variables": {"input": pairs}},
            headers=headers,
            timeout=60,
        )

    writers = [
        lambda r: rest(ascending, f"rest-up-{r}"),
        lambda r: rest(descending, f"rest-down-{r}"),
        lambda r: graphql(ascending, f"gql-up-{r}"),
        lambda r: graphql(descending, f"gql-down-{r}"),
    ]
    for round_ in range(ROUNDS):
        responses = together(len(writers), lambda i, r=round_: writers[i](r))
        assert [response.status_code for response in responses] == [200] * len(writers), [
            response.text[:300] for response in responses
        ]
        for response in responses[2:]:
            assert "errors" not in response.json(), response.text[:300]
        read = requests.get(
            busy_demo.url + PATH, params={"id": objects}, headers=headers, timeout=60
        )
        values = {item["metadata"]["w"] for item in read.json()["data"]}
        assert len(values) == 1, values  # a batch is atomic: one writer's values everywhere
        assert values <= {
            f"{kind}-{round_}" for kind in ("rest-up", "rest-down", "gql-up", "gql-down")
        }
    # Every batch wrote every object: 4 writers x 30 objects x 20 rounds audit entries.
    assert MetadataChange.objects.filter(key="w").count() == ROUNDS * len(writers) * OBJECTS
