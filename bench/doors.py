"""What `make bench` measures: the demo object every request names, and each door's request.

Shared by `bench.run` (the load), `bench.cpu` and `bench.profile`, so every tool measures the
same requests.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

IDENTIFIER = "3a9c5e1e-0000-4000-8000-000000000011"  # counterpart of Entity One (demo data)
PARTNER_EMAIL = "partner@example.com"
EXTERNAL_ID = "id_6c8f1262fdbc"
DOCUMENT = {
    "external_id": EXTERNAL_ID,
    "comment": "benchmark",
    "country": "DE",
    "currency": "EUR",
    "tier": "gold",
    "owner": "partner",
    "tags": ["a", "b"],
    "limits": {"daily": 100, "monthly": 3000},
    "active": True,
    "seq": "seed",
}
GRAPHQL_QUERY = (
    f'{{ metadata(linkedObjectType: COUNTERPART, identifier: "{IDENTIFIER}") {{ key value }} }}'
)
GRAPHQL_UPDATE = (
    "mutation Update($input: MetadataInput!) "
    "{ updateMetadata(input: $input) { metadata { key value } } }"
)


def graphql_update_body(seq: str) -> dict[str, Any]:
    """The `updateMetadata` request the benchmark sends: the "seq" key of its object."""
    variables = {
        "linkedObjectType": "COUNTERPART",
        "identifier": IDENTIFIER,
        "key": "seq",
        "value": json.dumps(seq),
    }
    return {"query": GRAPHQL_UPDATE, "variables": {"input": variables}}


@dataclass(frozen=True)
class Door:
    key: str
    label: str
    mode: str
    path: str
    target: float | None = None  # throughput as a fraction of the floor's, at least
    identifiers: str = ""  # patch_many and batches: the objects written, comma-separated
    keys: int = 1  # keys written per request (a batch writes one per object)

    @property
    def writes(self) -> bool:
        return self.mode in {"put", "patch", "patch_many", "gql_update", *BATCH_MODES}


def filler_identifier(number: int) -> str:
    """The id of filler counterpart `number` (bench.database makes it the same way)."""
    return str(uuid.UUID(hashlib.md5(f"bench-filler-{number}".encode()).hexdigest()))


SPREAD_OBJECTS = 64
BATCH_OBJECTS = 100
BATCH_MODES = ("batch_patch", "gql_batch")


REST_PATH = f"/v1/counterparts/{IDENTIFIER}/partner_metadata"
FLOOR_PATH = f"/bench/floor/counterparts/{IDENTIFIER}/partner_metadata"
FLOOR = Door("floor_get", "floor GET", "get", FLOOR_PATH)
WRITE_FLOOR_PATH = f"/bench/floor-write/counterparts/{IDENTIFIER}/partner_metadata"
# Not a target: what any correct write costs (bench.floor), so the writes are also shown
# against a write, not only against a read.
WRITE_FLOOR = Door("floor_patch", "floor PATCH", "patch", WRITE_FLOOR_PATH)
DOORS = (
    FLOOR,
    WRITE_FLOOR,
    Door("rest_get", "REST GET", "get", REST_PATH, 0.75),
    Door("rest_put", "REST PUT", "put", REST_PATH, 0.6),
    Door("rest_patch", "REST PATCH", "patch", REST_PATH, 0.6),
    # Issue 18 raised issue 7's 0.6x: a GraphQL read does the same one query as REST GET.
    Door("graphql_metadata", "GraphQL metadata", "gql_query", "/v1/graphql/", 0.7),
    Door("graphql_update", "GraphQL updateMetadata", "gql_update", "/v1/graphql/", 0.6),
)
LOOKUP = Door(
    "rest_lookup",
    "REST lookup",
    "get",
    "/v1/counterparts/partner_metadata?key=external_id&value=" + quote(json.dumps(EXTERNAL_ID)),
)
# Not a target: the writes above all go to one object, so they queue on its row lock; this
# row spreads the same PATCHes over filler objects, to tell that queue from a write's cost.
SPREAD = Door(
    "rest_patch_spread",
    f"REST PATCH, {SPREAD_OBJECTS} objects",
    "patch_many",
    "/v1/counterparts/{id}/partner_metadata",
    identifiers=",".join(filler_identifier(n) for n in range(SPREAD_OBJECTS)),
)
# Issue 21's bulk rows: a partner's sync, 100-object batches of one key each, every request
# naming the next 100 of SYNC_OBJECTS filler objects (more windows than connections, so no
# two batches in flight name the same object, as in a real sync), reported as keys/s beside
# single PATCH's keys/s; targets: at least 20x the keys/s, a p50 at most 10x.
SYNC_OBJECTS = 40 * BATCH_OBJECTS
_SYNC_IDS = ",".join(filler_identifier(n) for n in range(SYNC_OBJECTS))
BATCHES = (
    Door(
        "rest_batch",
        f"REST PATCH, {BATCH_OBJECTS}-object batch",
        "batch_patch",
        "/v1/counterparts/partner_metadata",
        identifiers=_SYNC_IDS,
        keys=BATCH_OBJECTS,
    ),
    Door(
        "graphql_batch",
        f"GraphQL batch, {BATCH_OBJECTS} objects",
        "gql_batch",
        "/v1/graphql/",
        identifiers=_SYNC_IDS,
        keys=BATCH_OBJECTS,
    ),
)
BULK_KEYS_TARGET = 20  # batch keys/s over single PATCH keys/s, at least
BULK_P50_TARGET = 10  # batch p50 over single PATCH p50, at most
# The order of the doors within a round: each read right after the floor it is compared
# with and each write right after the write floor, so the machine's drift through a round
# weighs least between a door and its reference, and the reads see the database as the
# floor saw it (not just after seconds of writes to the object they read).
ROUND_ORDER = (
    "floor_get",
    "rest_get",
    "graphql_metadata",
    "rest_lookup",
    "floor_patch",
    "rest_put",
    "rest_patch",
    "graphql_update",
    "rest_patch_spread",
    "rest_batch",
    "graphql_batch",
)


def in_round_order(doors: list[Door]) -> list[Door]:
    return sorted(doors, key=lambda door: ROUND_ORDER.index(door.key))


# The floor is swept too: other load on the machine moves its p50 as it moves the doors',
# so "vs floor" (each door's p50 over the floor's at the same size) shows the size effect alone.
SWEEP_KEYS = ("floor_get", "rest_get", "graphql_update", "rest_lookup")
SWEEP_TARGETS = {"rest_get": 1.25, "rest_lookup": 1.5}
