"""`GET /v1/{collection}/partner_metadata?key=K`: lookup by metadata (contract section 9)."""

from __future__ import annotations

import pytest

from tests.conftest import (
    COUNTERPART_ONE,
    COUNTERPART_TWO,
    ENTITY_ONE,
    ENTITY_TWO,
    ENTITY_USER,
    PARTNER,
    SOME_TEST,
)
from tests.rest.conftest import Api, ApiFactory, assert_error, body, url

pytestmark = pytest.mark.django_db

COUNTERPARTS = "/v1/counterparts/partner_metadata"
ACCOUNTS = "/v1/accounts/partner_metadata"


@pytest.fixture
def partner(api_as: ApiFactory) -> Api:
    """The partner, with external ids on both counterparts and both accounts."""
    api = api_as(PARTNER)
    api.put(url("counterparts", COUNTERPART_ONE), body({"external_id": "id_1", "n": 42}))
    api.put(url("counterparts", COUNTERPART_TWO), body({"external_id": "id_2", "n": None}))
    api.put(url("accounts", "A-154321"), body({"external_id": "acc_1"}))
    api.put(url("accounts", "A-12345"), body({"external_id": "acc_2"}))
    return api


def ids(response: object) -> list[str]:
    payload = response.json()  # type: ignore[attr-defined]
    assert response.status_code == 200, payload  # type: ignore[attr-defined]
    return [item["id"] for item in payload["data"]]


def test_objects_with_a_key_in_identifier_order_with_their_documents(partner: Api) -> None:
    response = partner.get(COUNTERPARTS, {"key": "external_id"})
    assert response.json() == {
        "data": [
            {"id": COUNTERPART_ONE, "metadata": {"external_id": "id_1", "n": 42}},
            {"id": COUNTERPART_TWO, "metadata": {"external_id": "id_2", "n": None}},
        ],
        "next_pagination_token": None,
    }


def test_values_are_json_text_and_several_mean_any(partner: Api) -> None:
    assert ids(partner.get(COUNTERPARTS, {"key": "external_id", "value": '"id_2"'})) == [
        COUNTERPART_TWO
    ]
    both = {"key": "external_id", "value": ['"id_1"', '"id_2"', '"nope"']}
    assert ids(partner.get(COUNTERPARTS, both)) == [COUNTERPART_ONE, COUNTERPART_TWO]
    assert ids(partner.get(COUNTERPARTS, {"key": "n", "value": "42"})) == [COUNTERPART_ONE]
    assert ids(partner.get(COUNTERPARTS, {"key": "n", "value": "null"})) == [COUNTERPART_TWO]
    assert ids(partner.get(COUNTERPARTS, {"key": "n", "value": '"42"'})) == []


def test_only_readable_objects_are_found(partner: Api, api_as: ApiFactory) -> None:
    assert ids(api_as(ENTITY_USER).get(COUNTERPARTS, {"key": "external_id"})) == [COUNTERPART_ONE]
    assert ids(api_as(SOME_TEST).get(ACCOUNTS, {"key": "external_id"})) == ["A-154321"]
    assert ids(api_as(SOME_TEST).get(COUNTERPARTS, {"key": "external_id"})) == []


def test_a_write_is_found_by_the_next_lookup(partner: Api) -> None:
    partner.put(url("counterparts", COUNTERPART_TWO), body({"external_id": "id_6c8f1262fdbc"}))
    query = {"key": "external_id", "value": '"id_6c8f1262fdbc"'}
    assert ids(partner.get(COUNTERPARTS, query)) == [COUNTERPART_TWO]


def test_pages_follow_the_pagination_token(partner: Api) -> None:
    first = partner.get(COUNTERPARTS, {"key": "external_id", "limit": "1"}).json()
    assert [item["id"] for item in first["data"]] == [COUNTERPART_ONE]
    assert first["next_pagination_token"]
    query = {"key": "external_id", "limit": "1", "pagination_token": first["next_pagination_token"]}
    second = partner.get(COUNTERPARTS, query).json()
    assert [item["id"] for item in second["data"]] == [COUNTERPART_TWO]
    assert second["next_pagination_token"] is None


def test_the_entity_header_scopes_the_lookup(partner: Api) -> None:
    scoped = partner.get(COUNTERPARTS, {"key": "external_id"}, **{"X-Monite-Entity-Id": ENTITY_TWO})
    assert ids(scoped) == [COUNTERPART_TWO]
    assert scoped["X-Monite-Entity-Id"] == ENTITY_TWO
    assert_error(
        partner.get(COUNTERPARTS, {"key": "external_id"}, **{"X-Monite-Entity-Id": "nope"}), 404
    )
    accounts = partner.get(ACCOUNTS, {"key": "external_id"}, **{"X-Monite-Entity-Id": ENTITY_ONE})
    assert ids(accounts) == ["A-154321", "A-12345"] or ids(accounts) == ["A-12345", "A-154321"]


def test_refusals(partner: Api, api_as: ApiFactory, subtests: pytest.Subtests) -> None:
    cases = [
        ({}, 422, "invalid_request", ["query", "key"]),
        ({"key": ""}, 422, "invalid_metadata", ["query", "key"]),
        ({"key": "k" * 101}, 422, "invalid_metadata", ["query", "key"]),
        ({"key": "k", "limit": "0"}, 422, "invalid_lookup", ["query"]),
        ({"key": "k", "limit": "101"}, 422, "invalid_lookup", ["query"]),
        ({"key": "k", "limit": "many"}, 422, "invalid_request", ["query", "limit"]),
        ({"key": "k", "pagination_token": "%%%"}, 422, "invalid_lookup", ["query"]),
        ({"key": "k", "value": "id_1"}, 400, "not_json", None),
        ({"key": "k", "value": "NaN"}, 400, "not_json", None),
    ]
    for query, status, error_type, loc in cases:
        with subtests.test(query=query):
            payload = assert_error(partner.get(COUNTERPARTS, query), status, error_type)
            if loc is not None:
                assert payload["detail"][0]["loc"] == loc
    assert_error(api_as(None).get(COUNTERPARTS, {"key": "k"}), 401, "not_authenticated")
    post = partner.generic("POST", COUNTERPARTS, body({}))
    assert_error(post, 405, "method_not_allowed")
    assert post["Allow"] == "GET, PATCH, HEAD"  # PATCH: the batch write (section 12)
