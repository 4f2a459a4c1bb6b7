"""The REST door of bulk sync (contract section 12): PATCH and GET of many objects."""

from __future__ import annotations

import json
from typing import Any

import pytest

from metadata import rules
from metadata.models import Metadata, MetadataChange, WebhookEvent
from tests.conftest import (
    COUNTERPART_ONE,
    COUNTERPART_TWO,
    ENTITY_ONE,
    ENTITY_TWO,
    PARTNER,
    PARTNER_CLIENT_ID,
    PARTNER_CLIENT_TWO_ID,
    SUPPORT,
)
from tests.rest.conftest import ApiFactory, store_state

pytestmark = pytest.mark.django_db

PATH = "/v1/counterparts/partner_metadata"
MISSING = "3a9c5e1e-0000-4000-8000-0000000000ff"
IF_MATCH_0 = ["body", "data", 0, "if_match"]


def batch(*items: tuple[str, Any] | tuple[str, Any, str]) -> str:
    data = []
    for item in items:
        entry = {"id": item[0], "metadata": item[1]}
        if len(item) == 3:
            entry["if_match"] = item[2]
        data.append(entry)
    return json.dumps({"data": data})


def test_a_batch_answers_every_document_in_request_order(
    api_as: ApiFactory, counterparts: list[str]
) -> None:
    partner = api_as(PARTNER)
    order = list(reversed(counterparts))
    response = partner.patch(PATH, batch(*[(cp, {"sync_id": i}) for i, cp in enumerate(order)]))
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert [item["id"] for item in data] == order
    assert data[3] == {
        "id": order[3],
        "metadata": {"sync_id": 3},
        "etag": rules.document_etag({"sync_id": 3}),
    }
    single = partner.get(f"/v1/counterparts/{order[3]}/partner_metadata")
    assert single.json() == {"metadata": {"sync_id": 3}}
    assert single["ETag"] == data[3]["etag"]


def test_one_bad_item_among_100_is_422_and_nothing_changes(
    api_as: ApiFactory, counterparts: list[str]
) -> None:
    partner = api_as(PARTNER)
    assert partner.patch(PATH, batch(*[(cp, {"v": 0}) for cp in counterparts])).status_code == 200
    before = store_state(), WebhookEvent.objects.count()
    items: list[Any] = [(cp, {"v": 1}) for cp in counterparts]
    items[42] = (counterparts[42], {"v": "x" * 2100})
    response = partner.patch(PATH, batch(*items))
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert len(detail) == 1
    assert detail[0]["loc"][:3] == ["body", "data", 42]
    assert detail[0]["type"] == "value_error.too_large"
    assert (store_state(), WebhookEvent.objects.count()) == before


def test_every_refused_item_has_one_detail_entry_with_its_cause(
    api_as: ApiFactory, counterparts: list[str]
) -> None:
    response = api_as(PARTNER).patch(
        PATH,
        batch(
            (counterparts[0], {"fine": True}),
            (MISSING, {"a": 1}),
            ("not-a-uuid", {"a": 1}),
            (counterparts[1], {"a": 1}, '"stale"'),
            (counterparts[2], {"": 1}),
        ),
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [(d["loc"], d["type"]) for d in detail] == [
        (["body", "data", 1, "id"], "value_error.not_found"),
        (["body", "data", 2, "id"], "value_error.not_found"),
        (["body", "data", 3, "if_match"], "value_error.precondition_failed"),
        (["body", "data", 4, "metadata", ""], "value_error.key.empty"),
    ]
    assert detail[0]["msg"] == detail[1]["msg"]  # missing and malformed: the same words
    assert Metadata.objects.count() == 0


def test_readable_but_not_writable_items_are_refused(api_as: ApiFactory) -> None:
    response = api_as(SUPPORT).patch(PATH, batch((COUNTERPART_ONE, {"a": 1})))
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "value_error.permission_denied"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"data": []}, ["body", "data"]),
        ({"data": [{"id": COUNTERPART_ONE, "metadata": {}}] * 2}, ["body", "data", 1, "id"]),
        ({"data": [{"id": COUNTERPART_ONE}]}, ["body", "data", 0, "metadata"]),
        ({"data": [{"id": COUNTERPART_ONE, "metadata": {}, "x": 1}]}, ["body", "data", 0, "x"]),
        ({"items": []}, ["body", "items"]),
        ([], ["body"]),
        # What the document states of each member (issue 23): required, a string, not empty.
        ({}, ["body", "data"]),
        ({"data": [{"id": 5, "metadata": {}}]}, ["body", "data", 0, "id"]),
        ({"data": [{"id": "", "metadata": {}}]}, ["body", "data", 0, "id"]),
        ({"data": [{"id": COUNTERPART_ONE, "metadata": {}, "if_match": ""}]}, IF_MATCH_0),
        ({"data": [{"id": COUNTERPART_ONE, "metadata": {}, "if_match": 7}]}, IF_MATCH_0),
    ],
)
def test_malformed_envelopes_are_422_with_their_location(
    api_as: ApiFactory, body: Any, loc: list[Any]
) -> None:
    response = api_as(PARTNER).patch(PATH, json.dumps(body))
    assert response.status_code == 422, response.content
    located = [d["type"] for d in response.json()["detail"] if d["loc"] == loc]
    assert located, response.json()["detail"]
    # The envelope is refused as such, before any object is looked up.
    assert not {"value_error.not_found", "value_error.precondition_failed"} & set(located)


def test_more_than_100_items_is_422(api_as: ApiFactory, counterparts: list[str]) -> None:
    body = batch(*[(cp, {}) for cp in counterparts], (COUNTERPART_ONE, {}))
    response = api_as(PARTNER).patch(PATH, body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "data"]


def test_the_body_limit_of_the_batch_route_is_256_kib(
    api_as: ApiFactory, counterparts: list[str]
) -> None:
    """100 documents near their 2000-byte limit pass (over 64 KiB); past 256 KiB is 413."""
    partner = api_as(PARTNER)
    near_full = batch(*[(cp, {"v": "x" * 1900}) for cp in counterparts])
    assert 64 * 1024 < len(near_full) < 256 * 1024
    assert partner.patch(PATH, near_full).status_code == 200
    huge = json.dumps({"data": [{"id": COUNTERPART_ONE, "metadata": {}}], "pad": "x" * 262144})
    response = partner.patch(PATH, huge)
    assert response.status_code == 413
    assert str(256 * 1024) in response.json()["error"]["message"]


def test_the_entity_header_scopes_the_whole_batch(api_as: ApiFactory) -> None:
    response = api_as(PARTNER).patch(
        PATH,
        batch((COUNTERPART_ONE, {"a": 1}), (COUNTERPART_TWO, {"a": 1})),
        **{"X-Monite-Entity-Id": ENTITY_ONE},
    )
    assert response.status_code == 422
    assert [d["loc"] for d in response.json()["detail"]] == [["body", "data", 1, "id"]]
    assert Metadata.objects.count() == 0


def test_a_client_cannot_touch_another_tenants_objects_in_a_batch(api_as: ApiFactory) -> None:
    """c2 serves Entity Two only: Entity One's counterpart is refused exactly as a missing
    one, and c2's own item is not written either."""
    c2 = api_as(PARTNER_CLIENT_TWO_ID)
    theirs = c2.patch(PATH, batch((COUNTERPART_TWO, {"a": 1}), (COUNTERPART_ONE, {"a": 1})))
    missing = c2.patch(PATH, batch((COUNTERPART_TWO, {"a": 1}), (MISSING, {"a": 1})))
    assert theirs.status_code == missing.status_code == 422
    assert theirs.json() == missing.json()
    assert Metadata.objects.count() == 0
    assert MetadataChange.objects.count() == 0


def test_read_many_answers_the_readable_ones_in_request_order(
    api_as: ApiFactory, counterparts: list[str]
) -> None:
    partner = api_as(PARTNER)
    partner.patch(PATH, batch(*[(cp, {"n": i}) for i, cp in enumerate(counterparts[:3])]))
    asked = [counterparts[2], MISSING, "junk", counterparts[0], COUNTERPART_TWO]
    response = partner.get(PATH, {"id": asked})
    assert response.status_code == 200
    assert response.json() == {
        "data": [
            {"id": counterparts[2], "metadata": {"n": 2}},
            {"id": counterparts[0], "metadata": {"n": 0}},
            {"id": COUNTERPART_TWO, "metadata": {}},
        ]
    }
    scoped = partner.get(PATH, {"id": asked}, **{"X-Monite-Entity-Id": ENTITY_TWO})
    assert [item["id"] for item in scoped.json()["data"]] == [COUNTERPART_TWO]


def test_read_many_omits_another_tenants_objects(api_as: ApiFactory) -> None:
    response = api_as(PARTNER_CLIENT_TWO_ID).get(PATH, {"id": [COUNTERPART_ONE, COUNTERPART_TWO]})
    assert [item["id"] for item in response.json()["data"]] == [COUNTERPART_TWO]
    c1 = api_as(PARTNER_CLIENT_ID).get(PATH, {"id": [COUNTERPART_ONE, COUNTERPART_TWO]})
    assert len(c1.json()["data"]) == 2


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ({"id": COUNTERPART_ONE, "key": "k"}, ["query", "key"]),
        ({"id": COUNTERPART_ONE, "pagination_token": "x"}, ["query", "pagination_token"]),
        ({"id": [COUNTERPART_ONE] * 101}, ["query", "id"]),
        ({}, ["query", "key"]),
        ({"id": ""}, ["query", "id", 0]),
        # A parameter neither mode takes (a misspelling) is refused, not ignored.
        ({"id": COUNTERPART_ONE, "ids": MISSING}, ["query", "ids"]),
        ({"key": "k", "vaule": "1"}, ["query", "vaule"]),
        ({"key": "k", "format": "json"}, ["query", "format"]),
    ],
)
def test_read_many_and_lookup_modes_do_not_mix(
    api_as: ApiFactory, query: dict[str, Any], loc: list[str]
) -> None:
    response = api_as(PARTNER).get(PATH, query)
    assert response.status_code == 422, response.content
    assert loc in [d["loc"] for d in response.json()["detail"]]


def test_a_batch_of_n_costs_n_and_the_budget_is_in_the_headers(
    api_as: ApiFactory, counterparts: list[str], settings: Any
) -> None:
    settings.GATEWAY_THROTTLE_RATES = {**settings.GATEWAY_THROTTLE_RATES, "user": "30/hour"}
    partner = api_as(PARTNER)
    first = partner.patch(PATH, batch(*[(cp, {"a": 1}) for cp in counterparts[:25]]))
    assert first.status_code == 200
    assert first["X-RateLimit-Limit"] == "30"
    assert first["X-RateLimit-Remaining"] == "5"
    assert 1 <= int(first["X-RateLimit-Reset"]) <= 3600
    refused = partner.patch(PATH, batch(*[(cp, {"b": 1}) for cp in counterparts[25:35]]))
    assert refused.status_code == 429
    assert refused["X-RateLimit-Remaining"] == "0"
    assert not Metadata.objects.filter(key="b").exists()  # refused before writing
    single = partner.get(f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata")
    assert single.status_code == 429
