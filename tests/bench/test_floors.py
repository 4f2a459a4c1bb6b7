"""The benchmark's floors (`bench/floor.py`) answer what the doors answer.

`make bench` reports each door as a fraction of a floor; that is only a fair comparison if
the floor reads the same document the door reads, and writes the same rows a write must.
The floors are routed only by the benchmark's URLconf (`bench.urls`, set by
`bench.settings`), which these tests use.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client

from bench import doors as bench_doors
from metadata.models import MetadataChange
from tests.conftest import COUNTERPART_ONE, PARTNER
from tests.rest.conftest import JSON, TokenFactory, body, url

FLOOR = f"/bench/floor/counterparts/{COUNTERPART_ONE}/partner_metadata"
WRITE_FLOOR = f"/bench/floor-write/counterparts/{COUNTERPART_ONE}/partner_metadata"
DOCUMENT = {"n": None, "nested": {"b": [1, 2.5, True], "a": "ü"}, "seq": "seed", "z": ""}

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the write floor is PostgreSQL's SQL"
)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def partner(token_for: TokenFactory) -> dict[str, str]:
    headers = auth(token_for(PARTNER))
    seeded = Client().put(
        url("counterparts", COUNTERPART_ONE), body(DOCUMENT), JSON, headers=headers
    )
    assert seeded.status_code == 200, seeded.content
    return headers


def rest_document(headers: dict[str, str]) -> Any:
    return Client().get(url("counterparts", COUNTERPART_ONE), headers=headers).json()


def test_the_floors_are_not_routed_without_the_benchmark_flag(
    partner: dict[str, str], client: Client
) -> None:
    assert client.get(FLOOR, headers=partner).status_code == 404


@pytest.mark.urls("bench.urls")
def test_the_floor_reads_what_rest_get_reads(partner: dict[str, str]) -> None:
    answer = Client().get(FLOOR, headers=partner)

    assert answer.status_code == 200
    assert answer.json() == rest_document(partner) == {"metadata": DOCUMENT}


@pytest.mark.urls("bench.urls")
@pytest.mark.parametrize("floor", [FLOOR, WRITE_FLOOR])
def test_the_floors_verify_the_token(floor: str, partner: dict[str, str]) -> None:
    answer = Client().generic("PATCH" if floor == WRITE_FLOOR else "GET", floor, body({}), JSON)

    assert answer.status_code == 401


@postgresql_only
@pytest.mark.urls("bench.urls")
def test_the_write_floor_writes_the_key_and_its_audit_row(partner: dict[str, str]) -> None:
    audited = MetadataChange.objects.count()

    answer = Client().patch(WRITE_FLOOR, body({"seq": "floor"}), JSON, headers=partner)

    assert answer.status_code == 200, answer.content
    assert answer.json() == rest_document(partner) == {"metadata": {**DOCUMENT, "seq": "floor"}}
    entry = MetadataChange.objects.order_by("-id").first()
    assert MetadataChange.objects.count() == audited + 1
    assert entry is not None
    assert (entry.key, entry.existed_before, entry.old_value, entry.new_value) == (
        "seq",
        True,
        "seed",
        "floor",
    )


@postgresql_only
@pytest.mark.urls("bench.urls")
def test_the_write_floor_refuses_a_document_over_the_limit(partner: dict[str, str]) -> None:
    answer = Client().patch(WRITE_FLOOR, body({"big": "x" * 2000}), JSON, headers=partner)

    assert answer.status_code == 422
    assert rest_document(partner) == {"metadata": DOCUMENT}


@pytest.mark.urls("bench.urls")
@pytest.mark.parametrize(
    ("path", "sent"),
    [
        (WRITE_FLOOR, "not json"),
        (WRITE_FLOOR, "[]"),
        (WRITE_FLOOR, '{"document": {}}'),
        (WRITE_FLOOR, '{"metadata": [1]}'),
        ("/bench/floor-write/counterparts/not-a-uuid/partner_metadata", body({"a": 1})),
    ],
)
def test_the_write_floor_answers_a_bad_request_with_400_and_writes_nothing(
    partner: dict[str, str], path: str, sent: str
) -> None:
    answer = Client().patch(path, sent, JSON, headers=partner)

    assert answer.status_code == 400, answer.content
    assert rest_document(partner) == {"metadata": DOCUMENT}


def test_each_door_is_measured_right_after_its_floor() -> None:
    doors = [*bench_doors.DOORS, bench_doors.LOOKUP, bench_doors.SPREAD]
    order = bench_doors.in_round_order(doors)
    assert sorted(door.key for door in order) == sorted(door.key for door in doors)
    first_write = order.index(bench_doors.WRITE_FLOOR)
    assert order[0].key == "floor_get"
    assert not any(door.writes for door in order[:first_write])
    assert all(door.writes for door in order[first_write:])
