"""Two gunicorn instances over one database behave as one gateway (issue 8).

The instances share nothing but the database, so any write through one is read through the
other; when one is killed mid-load, a client that fails over (as a load balancer would)
loses no acknowledged write.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.core.management import call_command

from metadata.models import User
from metadata.tokens import access_token_for
from tests.conftest import COUNTERPART_ONE, DEMO_FIXTURE, PARTNER
from tests.live import LiveServer, start_gunicorn

REST_PATH = f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata"
UPDATE = """
mutation updateMetadata($input: MetadataInput!) {
  updateMetadata(input: $input) { metadata { key value } }
}
"""
KEYS_PER_DOOR = 20


@pytest.fixture
def two_instances(django_db_reset_sequences: None) -> Iterator[tuple[LiveServer, LiveServer]]:
    call_command("loaddata", str(DEMO_FIXTURE), verbosity=0)
    first, second = start_gunicorn(workers=2), start_gunicorn(workers=2)
    yield first, second
    first.stop()
    second.stop()


@pytest.fixture
def headers(two_instances: tuple[LiveServer, LiveServer]) -> dict[str, str]:
    token = access_token_for(User.objects.get(email=PARTNER))
    return {"Authorization": f"Bearer {token}"}


def patch(base: str, headers: dict[str, str], key: str, value: object) -> requests.Response:
    return requests.patch(
        base + REST_PATH, json={"metadata": {key: value}}, headers=headers, timeout=30
    )


def update(base: str, headers: dict[str, str], key: str, value: object) -> requests.Response:
    variables = {
        "input": {
            "linkedObjectType": "ACCOUNT",
            "identifier": "A-154321",
            "key": key,
            "value": json.dumps(value),
        }
    }
    return requests.post(
        f"{base}/v1/graphql/",
        json={"query": UPDATE, "variables": variables},
        headers=headers,
        timeout=30,
    )


def read(base: str, headers: dict[str, str], path: str) -> dict:
    response = requests.get(base + path, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["metadata"]


def test_writes_through_both_instances_are_read_through_the_other(
    two_instances: tuple[LiveServer, LiveServer], headers: dict[str, str]
) -> None:
    first, second = two_instances
    jobs = []
    for i in range(KEYS_PER_DOOR):
        jobs.append(lambda i=i: patch(first.url, headers, f"first_{i}", i))
        jobs.append(lambda i=i: patch(second.url, headers, f"second_{i}", i))
        jobs.append(lambda i=i: update(first.url, headers, f"gql_first_{i}", [i]))
        jobs.append(lambda i=i: update(second.url, headers, f"gql_second_{i}", [i]))
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda job: job(), jobs))
    assert [r.status_code for r in responses] == [200] * len(jobs)
    assert all("errors" not in r.json() for r in responses)

    counterpart_via_first = read(first.url, headers, REST_PATH)
    counterpart_via_second = read(second.url, headers, REST_PATH)
    account_path = "/v1/accounts/A-154321/partner_metadata"
    assert counterpart_via_first == counterpart_via_second
    assert {k: v for k, v in counterpart_via_first.items() if k.startswith("second_")} == {
        f"second_{i}": i for i in range(KEYS_PER_DOOR)
    }
    assert {k: v for k, v in counterpart_via_second.items() if k.startswith("first_")} == {
        f"first_{i}": i for i in range(KEYS_PER_DOOR)
    }
    account_via_first = read(first.url, headers, account_path)
    account_via_second = read(second.url, headers, account_path)
    assert (
        account_via_first
        == account_via_second
        == {
            **{f"gql_first_{i}": [i] for i in range(KEYS_PER_DOOR)},
            **{f"gql_second_{i}": [i] for i in range(KEYS_PER_DOOR)},
        }
    )


def test_killing_one_instance_mid_load_loses_no_acknowledged_write(
    two_instances: tuple[LiveServer, LiveServer], headers: dict[str, str]
) -> None:
    first, second = two_instances
    lock = threading.Lock()
    state = {"done": 0, "killed": False, "failed_over": 0}

    def write(i: int) -> tuple[str, int, int]:
        key = f"k{i:02d}"
        with lock:
            if state["done"] >= 20 and not state["killed"]:
                state["killed"] = True
                first.kill()  # while other writers' requests are in flight
        try:
            response = patch(first.url, headers, key, i)
        except requests.RequestException:
            response = patch(second.url, headers, key, i)  # the balancer fails over
            with lock:
                state["failed_over"] += 1
        with lock:
            state["done"] += 1
        return key, i, response.status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(write, range(60)))
    assert state["killed"]
    assert [code for _, _, code in results] == [200] * 60
    assert state["failed_over"] >= 30
    assert read(second.url, headers, REST_PATH) == {key: i for key, i, _ in results}
