"""GET, PUT and PATCH of partner metadata through the Django test client (contract section 5)."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from metadata import rules
from metadata.linkables import all_linkables
from metadata.models import Door, MetadataChange
from metadata.rest.partner_metadata import PartnerMetadataView
from tests.conftest import COUNTERPART_ONE, ENTITY_ONE, PARTNER, SOME_TEST
from tests.rest.conftest import JSON, ApiFactory, TokenFactory, assert_error, body, store_state, url

pytestmark = pytest.mark.django_db

CP = url("counterparts", COUNTERPART_ONE)
ACCOUNT = url("accounts", "A-154321")


def test_every_registry_type_has_a_route(api_as: ApiFactory) -> None:
    api = api_as(PARTNER)
    identifiers = {
        "accounts": "A-154321",
        "account_users": SOME_TEST,
        "properties": "1",
        "entities": ENTITY_ONE,
        "counterparts": COUNTERPART_ONE,
        "payables": "3a9c5e1e-0000-4000-8000-000000000021",
    }
    assert {lk.collection for lk in all_linkables()} == set(identifiers)
    for collection, identifier in identifiers.items():
        path = url(collection, identifier)
        assert api.put(path, body({"n": collection})).json() == {"metadata": {"n": collection}}
        assert api.get(path).json() == {"metadata": {"n": collection}}


def test_get_without_metadata_is_an_empty_object(api_as: ApiFactory) -> None:
    response = api_as(PARTNER).get(CP)
    assert response.status_code == 200
    assert response["Content-Type"] == JSON
    assert response.json() == {"metadata": {}}
    assert response["ETag"] == rules.document_etag({})


def test_put_replaces_and_answers_the_stored_document(api_as: ApiFactory) -> None:
    api = api_as(PARTNER)
    api.put(CP, body({"a": 1, "b": {"c": [1, 2]}}))
    response = api.put(CP, body({"b": None, "z": "last", "e": ""}))
    assert response.status_code == 200
    assert response.json() == {"metadata": {"b": None, "e": "", "z": "last"}}
    assert api.get(CP).json() == {"metadata": {"b": None, "e": "", "z": "last"}}


def test_put_of_an_empty_object_deletes_the_document(api_as: ApiFactory) -> None:
    api = api_as(PARTNER)
    api.put(CP, body({"a": 1}))
    response = api.put(CP, body({}))
    assert response.json() == {"metadata": {}}
    assert api.get(CP).json() == {"metadata": {}}


def test_patch_is_a_json_merge_patch(api_as: ApiFactory) -> None:
    api = api_as(PARTNER)
    api.put(CP, body({"keep": 1, "drop": 2, "nested": {"x": 1, "y": 2}, "list": [1, 2]}))
    response = api.patch(CP, body({"drop": None, "nested": {"y": None, "z": 3}, "list": [3]}))
    assert response.status_code == 200
    expected = {"keep": 1, "list": [3], "nested": {"x": 1, "z": 3}}
    assert response.json() == {"metadata": expected}
    assert api.get(CP).json() == {"metadata": expected}


def test_patch_accepts_the_merge_patch_media_type(api_as: ApiFactory) -> None:
    api = api_as(PARTNER)
    response = api.patch(CP, body({"a": 1}), content_type="application/merge-patch+json")
    assert response.status_code == 200
    assert response.json() == {"metadata": {"a": 1}}


def test_writes_are_audited_as_rest_with_the_request_id(api_as: ApiFactory) -> None:
    api = api_as(PARTNER)
    api.put(CP, body({"a": 1}), **{"X-Request-Id": "req-rest-1"})
    change = MetadataChange.objects.get()
    assert (change.door, change.request_id, change.key) == (Door.REST, "req-rest-1", "a")
    assert change.actor.email == PARTNER


def test_values_come_back_as_json_values(api_as: ApiFactory) -> None:
    document = {"n": 1.5, "i": 7, "t": True, "f": False, "null": None, "s": "ünï€", "l": [{}]}
    api = api_as(PARTNER)
    assert api.put(CP, body(document)).json() == {"metadata": document}
    assert api.get(CP).json() == {"metadata": document}


def test_the_body_is_compact_canonical_utf8_json(api_as: ApiFactory) -> None:
    """Keys sorted at every depth, no spaces, text unescaped: the same bytes from every
    read, whichever order the keys were written in or the store keeps them."""
    api = api_as(PARTNER)
    # PostgreSQL's jsonb keeps an object's shorter keys first ("y" before "bb").
    document = {"z": {"y": 1, "bb": [{"d": 1, "c": None}]}, "é": "ü", "a": 1.5}
    expected = '{"metadata":{"a":1.5,"z":{"bb":[{"c":null,"d":1}],"y":1},"é":"ü"}}'
    for response in (api.put(CP, body(document)), api.get(CP), api.patch(CP, body({}))):
        assert response.status_code == 200
        assert response["Content-Type"] == JSON
        assert response.content.decode("utf-8") == expected


class TestETag:
    def test_every_200_carries_the_etag_of_the_document(self, api_as: ApiFactory) -> None:
        api = api_as(PARTNER)
        put = api.put(CP, body({"b": 2, "a": 1}))
        assert put["ETag"] == rules.document_etag({"a": 1, "b": 2})
        assert api.get(CP)["ETag"] == put["ETag"]
        patch = api.patch(CP, body({"c": 3}))
        assert patch["ETag"] == rules.document_etag({"a": 1, "b": 2, "c": 3})

    def test_if_match_with_the_current_etag_writes(self, api_as: ApiFactory) -> None:
        api = api_as(PARTNER)
        etag = api.put(CP, body({"a": 1}))["ETag"]
        response = api.put(CP, body({"a": 2}), **{"If-Match": etag})
        assert response.status_code == 200
        response = api.patch(CP, body({"b": 1}), **{"If-Match": f'"other", {response["ETag"]}'})
        assert response.json() == {"metadata": {"a": 2, "b": 1}}

    def test_if_match_star_and_an_unquoted_tag_are_understood(self, api_as: ApiFactory) -> None:
        api = api_as(PARTNER)
        etag = api.put(CP, body({"a": 1}))["ETag"]
        assert api.put(CP, body({"a": 2}), **{"If-Match": "*"}).status_code == 200
        etag = api.get(CP)["ETag"]
        assert api.put(CP, body({"a": 3}), **{"If-Match": etag.strip('"')}).status_code == 200

    @pytest.mark.parametrize("method", ["put", "patch"])
    def test_a_stale_if_match_is_412_and_writes_nothing(
        self, api_as: ApiFactory, method: str
    ) -> None:
        api = api_as(PARTNER)
        stale = api.put(CP, body({"a": 1}))["ETag"]
        api.put(CP, body({"a": 2}))
        before = store_state()
        response = getattr(api, method)(CP, body({"a": 3}), **{"If-Match": stale})
        assert_error(response, 412, "precondition_failed")
        assert store_state() == before
        assert api.get(CP).json() == {"metadata": {"a": 2}}

    def test_a_weak_or_empty_if_match_never_matches(self, api_as: ApiFactory) -> None:
        api = api_as(PARTNER)
        etag = api.put(CP, body({"a": 1}))["ETag"]
        assert api.put(CP, body({}), **{"If-Match": f"W/{etag}"}).status_code == 412
        assert api.put(CP, body({}), **{"If-Match": ""}).status_code == 412


class TestSize:
    def test_exactly_2000_bytes_is_accepted(self, api_as: ApiFactory) -> None:
        document = {"k": "x" * 1992}
        assert rules.document_size(document) == 2000
        response = api_as(PARTNER).put(CP, body(document))
        assert response.status_code == 200
        assert response.json() == {"metadata": document}

    def test_2001_bytes_is_422_naming_both_sizes(self, api_as: ApiFactory) -> None:
        document = {"k": "x" * 1993}
        before = store_state()
        response = api_as(PARTNER).put(CP, body(document))
        payload = assert_error(response, 422, "invalid_metadata")
        assert "2001 bytes" in payload["error"]["message"]
        assert "2000" in payload["error"]["message"]
        assert payload["detail"] == [
            {
                "loc": ["body", "metadata"],
                "msg": "metadata is 2001 bytes; the limit is 2000",
                "type": "value_error.too_large",
            }
        ]
        assert store_state() == before

    def test_a_2000_byte_document_written_with_u_escapes_is_accepted(
        self, api_as: ApiFactory
    ) -> None:
        document = {"k": "€" * 664}  # 3 UTF-8 bytes each: 8 + 1992 bytes
        assert rules.document_size(document) == 2000
        text = json.dumps({"metadata": document}, ensure_ascii=True)
        assert 3900 < len(text.encode()) < 4100  # six characters per \u20ac
        response = api_as(PARTNER).put(CP, text)
        assert response.status_code == 200
        assert response.json() == {"metadata": document}

    def test_patch_counts_the_document_after_the_merge(self, api_as: ApiFactory) -> None:
        api = api_as(PARTNER)
        api.put(CP, body({"a": "x" * 1000}))
        before = store_state()
        response = api.patch(CP, body({"b": "y" * 1000}))
        payload = assert_error(response, 422, "invalid_metadata")
        assert "2015 bytes" in payload["error"]["message"]
        assert store_state() == before
        assert api.patch(CP, body({"a": None, "b": "y" * 1000})).status_code == 200


class TestRefusedWritesChangeNothing:
    def test_422_writes_no_row_and_no_audit_entry(
        self, api_as: ApiFactory, subtests: pytest.Subtests
    ) -> None:
        api = api_as(PARTNER)
        api.put(CP, body({"kept": True}))
        before = store_state()
        for payload in [
            {"metadata": {"": 1}},
            {"metadata": {"k" * 101: 1}},
            {"metadata": {" ": 1}},
            {"metadata": {"a\u0007": 1}},
            {"metadata": {"a": "nul\u0000"}},
            {"metadata": {"deep": json.loads("[" * 17 + "]" * 17)}},
            {"metadata": [1]},
            {"metadata": None},
            {"metadata": {}, "extra": 1},
            {},
        ]:
            for method in ("put", "patch"):
                with subtests.test(payload=payload, method=method):
                    response = getattr(api, method)(CP, json.dumps(payload))
                    assert_error(response, 422)
                    assert response.json()["detail"]
        assert store_state() == before

    def test_403_writes_nothing(self, api_as: ApiFactory) -> None:
        before = store_state()
        assert_error(api_as("support@example.com").put(CP, body({"a": 1})), 403)
        assert store_state() == before


class TestMoniteHeaders:
    def test_version_and_entity_id_are_echoed(self, api_as: ApiFactory) -> None:
        headers = {"X-Monite-Version": "2024-05-25", "X-Monite-Entity-Id": ENTITY_ONE}
        response = api_as(PARTNER).get(CP, **headers)
        assert response.status_code == 200
        assert response["X-Monite-Version"] == "2024-05-25"
        assert response["X-Monite-Entity-Id"] == ENTITY_ONE

    def test_headers_are_echoed_on_errors_too(self, api_as: ApiFactory) -> None:
        response = api_as(None).get(CP, **{"X-Monite-Version": "2024-05-25"})
        assert response.status_code == 401
        assert response["X-Monite-Version"] == "2024-05-25"

    def test_not_echoed_when_not_sent(self, api_as: ApiFactory) -> None:
        response = api_as(PARTNER).get(CP)
        assert "X-Monite-Version" not in response
        assert "X-Monite-Entity-Id" not in response

    def test_entity_id_is_ignored_for_types_outside_entities(self, api_as: ApiFactory) -> None:
        api = api_as(SOME_TEST)
        response = api.get(ACCOUNT, **{"X-Monite-Entity-Id": "not-a-uuid"})
        assert response.status_code == 200


class TestAuthorizationForms:
    @pytest.mark.parametrize("form", ["Bearer {}", "JWT {}", "{}", "bearer {}"])
    def test_bearer_jwt_and_bare_tokens_are_accepted(
        self, token_for: TokenFactory, form: str
    ) -> None:
        header = form.format(token_for(PARTNER))
        response = Client().get(CP, headers={"Authorization": header})
        assert response.status_code == 200, response.content

    def test_header_authenticated_put_needs_no_csrf_token(self, token_for: TokenFactory) -> None:
        client = Client(enforce_csrf_checks=True)
        client.cookies["csrftoken"] = "x" * 32  # a browser's cookie does not make it a session
        response = client.put(
            CP,
            body({"a": 1}),
            content_type=JSON,
            headers={"Authorization": f"Bearer {token_for(PARTNER)}"},
        )
        assert response.status_code == 200, response.content
        patch = client.patch(
            CP, body({"b": 2}), content_type=JSON, headers={"Authorization": token_for(PARTNER)}
        )
        assert patch.json() == {"metadata": {"a": 1, "b": 2}}


def test_a_route_without_a_registry_entry_is_refused_at_start_up() -> None:
    with pytest.raises(ImproperlyConfigured):
        PartnerMetadataView.as_view()
