"""The GraphQL door of bulk sync: `updateMetadataBatch` and `metadataBatch`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from metadata.graphql.view import document_cache
from metadata.linkables import all_linkables
from metadata.models import Metadata, MetadataChange, WebhookEvent
from tests.conftest import (
    COOL_USER,
    COUNTERPART_ONE,
    COUNTERPART_TWO,
    DEMO_PASSWORD,
    PARTNER,
    PARTNER_CLIENT_TWO_ID,
    SUPPORT,
)
from tests.graphql.conftest import TOKEN, post

pytestmark = pytest.mark.django_db

BATCH = """
mutation batch($input: [MetadataInput!]!) {
  updateMetadataBatch(input: $input) { metadata { key value } }
}
"""
READ_BATCH = """
query read($type: LinkedObjectType!, $ids: [String!]!) {
  metadataBatch(linkedObjectType: $type, identifiers: $ids) { identifier metadata { key value } }
}
"""
MISSING = "3a9c5e1e-0000-4000-8000-0000000000ff"


@pytest.fixture(autouse=True)
def _fresh() -> None:
    document_cache.clear()
    cache.clear()


@pytest.fixture
def gql(token_for: Callable[[str], str]) -> Callable[..., Any]:
    client = Client()

    def run(query: str, variables: dict[str, Any], as_user: str = PARTNER) -> Any:
        response = post(client, query, variables, authorization=f"JWT {token_for(as_user)}")
        assert response.status_code == 200, response.content
        return response.json()

    return run


def pair(identifier: str, key: str, value: Any, kind: str = "COUNTERPART") -> dict[str, Any]:
    return {"linkedObjectType": kind, "identifier": identifier, "key": key, "value": value}


def test_a_batch_of_any_types_answers_each_pair_in_order(
    gql: Callable[..., Any], counterparts: list[str]
) -> None:
    pairs = [pair(cp, "sync", json.dumps(i)) for i, cp in enumerate(counterparts[:98])]
    pairs += [pair("A-154321", "acct", '"x"', "ACCOUNT"), pair(counterparts[0], "second", "null")]
    body = gql(BATCH, {"input": pairs})
    assert "errors" not in body, body
    stored = body["data"]["updateMetadataBatch"]["metadata"]
    assert [entry["key"] for entry in stored] == [p["key"] for p in pairs]
    assert stored[5] == {"key": "sync", "value": "5"}
    assert stored[-1] == {"key": "second", "value": "null"}
    assert WebhookEvent.objects.count() == 99  # one per object: counterparts[0] twice
    assert MetadataChange.objects.count() == 100


def test_each_refused_pair_is_one_error_with_its_index_and_nothing_is_written(
    gql: Callable[..., Any], counterparts: list[str]
) -> None:
    pairs = [pair(cp, "k", "1") for cp in counterparts]
    pairs[3] = pair(MISSING, "k", "1")
    pairs[50] = pair(counterparts[50], "k", json.dumps("x" * 2100))
    pairs[70] = pair(counterparts[70], "", "1")
    pairs[80] = pair(counterparts[80], "k", "1", "ACCOUNT")  # a UUID is no account number
    body = gql(BATCH, {"input": pairs})
    assert body["data"] == {"updateMetadataBatch": None}
    found = [(e["extensions"]["index"], e["extensions"]["errorCode"]) for e in body["errors"]]
    assert found == [(3, "KT-CT-4123"), (50, "KT-CT-8411"), (70, "KT-CT-8411"), (80, "KT-CT-4123")]
    assert body["errors"][0]["path"] == ["updateMetadataBatch"]
    paths = [e["extensions"]["validationErrors"][0]["inputPath"] for e in body["errors"][1:3]]
    assert paths == [["input", 50, "value"], ["input", 70, "key"]]
    assert Metadata.objects.count() == 0
    assert MetadataChange.objects.count() == 0
    assert WebhookEvent.objects.count() == 0


def test_a_value_that_is_not_json_is_an_item_error(gql: Callable[..., Any]) -> None:
    body = gql(BATCH, {"input": [pair(COUNTERPART_ONE, "a", "1"), pair(COUNTERPART_ONE, "b", "{")]})
    assert [e["extensions"]["index"] for e in body["errors"]] == [1]
    assert body["errors"][0]["extensions"]["validationErrors"][0]["inputPath"] == [
        "input",
        1,
        "value",
    ]
    assert Metadata.objects.count() == 0


def test_not_writable_and_stale_digests_are_refused(gql: Callable[..., Any]) -> None:
    denied = gql(BATCH, {"input": [pair(COUNTERPART_ONE, "a", "1")]}, as_user=SUPPORT)
    assert denied["errors"][0]["extensions"]["errorCode"] == "KT-CT-4124"
    stale = gql(BATCH, {"input": [{**pair(COUNTERPART_ONE, "a", "1"), "compareDigest": "0"}]})
    assert stale["errors"][0]["extensions"]["errorCode"] == "KT-CT-8412"


def test_a_client_cannot_touch_another_tenants_object_in_a_batch(gql: Callable[..., Any]) -> None:
    theirs = gql(
        BATCH,
        {"input": [pair(COUNTERPART_TWO, "a", "1"), pair(COUNTERPART_ONE, "a", "1")]},
        as_user=PARTNER_CLIENT_TWO_ID,
    )
    missing = gql(
        BATCH,
        {"input": [pair(COUNTERPART_TWO, "a", "1"), pair(MISSING, "a", "1")]},
        as_user=PARTNER_CLIENT_TWO_ID,
    )
    assert theirs == missing
    assert [e["extensions"]["index"] for e in theirs["errors"]] == [1]
    assert Metadata.objects.count() == 0


@pytest.mark.parametrize("count", [0, 101])
def test_a_batch_is_1_to_100_pairs(gql: Callable[..., Any], count: int) -> None:
    body = gql(BATCH, {"input": [pair(COUNTERPART_ONE, f"k{i}", "1") for i in range(count)]})
    assert body["errors"][0]["extensions"]["errorCode"] == "KT-CT-8418"
    assert Metadata.objects.count() == 0


def test_metadata_batch_reads_the_readable_ones_in_order(
    gql: Callable[..., Any], counterparts: list[str]
) -> None:
    gql(BATCH, {"input": [pair(counterparts[1], "n", "1"), pair(COUNTERPART_TWO, "n", "2")]})
    ids = [COUNTERPART_TWO, MISSING, "junk", counterparts[1], COUNTERPART_ONE]
    body = gql(READ_BATCH, {"type": "COUNTERPART", "ids": ids})
    assert body == {
        "data": {
            "metadataBatch": [
                {"identifier": COUNTERPART_TWO, "metadata": [{"key": "n", "value": "2"}]},
                {"identifier": counterparts[1], "metadata": [{"key": "n", "value": "1"}]},
                {"identifier": COUNTERPART_ONE, "metadata": []},
            ]
        }
    }
    tenant = gql(READ_BATCH, {"type": "COUNTERPART", "ids": ids}, as_user=PARTNER_CLIENT_TWO_ID)
    assert [d["identifier"] for d in tenant["data"]["metadataBatch"]] == [COUNTERPART_TWO]


def test_metadata_batch_finds_every_type_by_its_kind_of_identifier(
    gql: Callable[..., Any],
) -> None:
    """UUIDs, integers, account numbers and email addresses all find their objects (support
    may view every object); a user reaches themself and no other user."""
    for linkable in all_linkables():
        obj = linkable.model.objects.order_by("pk").first()
        assert obj is not None, linkable.name
        identifier = linkable.identifier_of(obj)
        ids = [MISSING, identifier, "junk"]
        body = gql(READ_BATCH, {"type": linkable.name, "ids": ids}, as_user=SUPPORT)
        found = [d["identifier"] for d in body["data"]["metadataBatch"]]
        assert found == [identifier], linkable.name
    ids = [SUPPORT, COOL_USER, "nobody@example.org"]
    users = gql(READ_BATCH, {"type": "ACCOUNT_USER", "ids": ids}, as_user=COOL_USER)
    assert [d["identifier"] for d in users["data"]["metadataBatch"]] == [COOL_USER]


def test_a_batch_of_n_pairs_costs_n(
    gql: Callable[..., Any], counterparts: list[str], settings: Any
) -> None:
    settings.GATEWAY_THROTTLE_RATES = {**settings.GATEWAY_THROTTLE_RATES, "user": "30/hour"}
    first = gql(BATCH, {"input": [pair(cp, "a", "1") for cp in counterparts[:25]]})
    assert "errors" not in first
    second = gql(BATCH, {"input": [pair(cp, "b", "1") for cp in counterparts[25:35]]})
    assert second["errors"][0]["extensions"]["errorCode"] == "KT-CT-1199"
    assert not Metadata.objects.filter(key="b").exists()


def test_graphql_answers_show_the_budget_as_rest_answers_do(
    token_for: Callable[[str], str], counterparts: list[str], settings: Any
) -> None:
    """Contract section 12: a sync client paces itself by X-RateLimit-*, on either door."""
    settings.GATEWAY_THROTTLE_RATES = {**settings.GATEWAY_THROTTLE_RATES, "user": "30/hour"}
    client, auth = Client(), f"JWT {token_for(PARTNER)}"
    written = post(
        client,
        BATCH,
        {"input": [pair(cp, "a", "1") for cp in counterparts[:25]]},
        authorization=auth,
    )
    assert "errors" not in written.json()
    assert (written["X-RateLimit-Limit"], written["X-RateLimit-Remaining"]) == ("30", "5")
    assert 1 <= int(written["X-RateLimit-Reset"]) <= 3600
    read = post(
        client, READ_BATCH, {"type": "COUNTERPART", "ids": counterparts[:3]}, authorization=auth
    )
    assert read["X-RateLimit-Remaining"] == "2"
    refused = post(
        client,
        BATCH,
        {"input": [pair(cp, "b", "1") for cp in counterparts[:10]]},
        authorization=auth,
    )
    assert refused.json()["errors"][0]["extensions"]["errorCode"] == "KT-CT-1199"
    assert (refused["X-RateLimit-Limit"], refused["X-RateLimit-Remaining"]) == ("30", "0")
    # A login counts against the address, not a caller: no caller's budget to show.
    login = {"input": {"email": PARTNER, "password": DEMO_PASSWORD}}
    assert "X-RateLimit-Limit" not in post(client, TOKEN, login)
