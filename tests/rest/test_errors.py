"""Every status the partner_metadata routes answer with, in the door's one error form."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from io import BytesIO
from typing import Any, NoReturn

import pytest
from django.core.exceptions import RequestDataTooBig
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from metadata import linkables, rules, selectors
from metadata.models import User
from metadata.rest.errors import exception_handler
from metadata.rest.parsers import StrictJSONParser
from metadata.rest.partner_metadata import PartnerMetadataView
from metadata.tokens import access_token_for
from tests.conftest import (
    COOL_USER,
    COUNTERPART_ONE,
    COUNTERPART_TWO,
    ENTITY_ONE,
    ENTITY_TWO,
    PARTNER,
    SOME_TEST,
    SUPPORT,
)
from tests.rest.conftest import JSON, ApiFactory, TokenFactory, assert_error, body, store_state, url

pytestmark = pytest.mark.django_db

CP = url("counterparts", COUNTERPART_ONE)
ACCOUNT = url("accounts", "A-154321")
NOT_FOUND = "No such object, or you do not have access to it."


class Test400NotJSON:
    def test_a_body_that_is_not_json_is_400(
        self, api_as: ApiFactory, subtests: pytest.Subtests
    ) -> None:
        api = api_as(PARTNER)
        before = store_state()
        for text in (
            '{"metadata": {"a": 1}',
            "{'metadata': {}}",
            '{"metadata": {"a": NaN}}',
            '{"metadata": {"a": Infinity}}',
            '{"metadata": {"a": -Infinity}}',
            "not json at all",
        ):
            for method in ("put", "patch"):
                with subtests.test(text=text, method=method):
                    payload = assert_error(getattr(api, method)(CP, text), 400, "not_json")
                    assert payload["error"]["message"].startswith("The body is not valid JSON")
        assert store_state() == before

    def test_nan_is_named_in_the_message(self, api_as: ApiFactory) -> None:
        response = api_as(PARTNER).put(CP, '{"metadata": {"a": NaN}}')
        assert "NaN" in response.json()["error"]["message"]

    def test_invalid_utf8_is_400(self, api_as: ApiFactory) -> None:
        response = api_as(PARTNER).put(CP, b'{"metadata": {"a": "\xff"}}')
        assert "UTF-8" in assert_error(response, 400, "not_json")["error"]["message"]

    def test_an_empty_body_is_400(self, api_as: ApiFactory) -> None:
        payload = assert_error(api_as(PARTNER).put(CP, ""), 400, "not_json")
        assert "empty" in payload["error"]["message"]


class Test401:
    def test_no_credentials(self, api_as: ApiFactory) -> None:
        response = api_as(None).get(CP)
        payload = assert_error(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert payload["error"]["message"] == "Authentication credentials were not provided."

    def test_every_method_authenticates_first(
        self, api_as: ApiFactory, subtests: pytest.Subtests
    ) -> None:
        for method in ("GET", "PUT", "PATCH", "POST", "DELETE", "OPTIONS"):
            with subtests.test(method=method):
                response = api_as(None).generic(method, url("counterparts", "nope"), "{")
                assert_error(response, 401, "not_authenticated")

    def test_a_bad_token_or_header(self, demo: None, subtests: pytest.Subtests) -> None:
        for header in ("Bearer not.a.jwt", "JWT", "Bearer", "Basic dXNlcjpwYXNz", "Bearer a b"):
            with subtests.test(header=header):
                response = Client().get(CP, headers={"Authorization": header})
                assert_error(response, 401, "invalid_token")
                assert response["WWW-Authenticate"].startswith("Bearer")

    def test_a_tampered_token(self, token_for: TokenFactory) -> None:
        token = token_for(PARTNER)
        tampered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
        response = Client().get(CP, headers={"Authorization": f"Bearer {tampered}"})
        assert_error(response, 401, "invalid_token")

    def test_an_expired_token(self, demo: None) -> None:
        token = access_token_for(User.objects.get(email=PARTNER))
        token.set_exp(from_time=timezone.now() - timedelta(hours=2))
        response = Client().get(CP, headers={"Authorization": f"Bearer {token}"})
        assert_error(response, 401, "expired_token")

    def test_an_inactive_or_deleted_user(self, token_for: TokenFactory) -> None:
        token = token_for(SOME_TEST)
        User.objects.filter(email=SOME_TEST).update(is_active=False)
        response = Client().get(ACCOUNT, headers={"Authorization": f"Bearer {token}"})
        assert_error(response, 401, "invalid_token")
        User.objects.filter(email=SOME_TEST).delete()
        response = Client().get(url("accounts", "nope"), headers={"Authorization": token})
        assert_error(response, 401, "invalid_token")


class Test403:
    def test_readable_but_not_writable(self, api_as: ApiFactory) -> None:
        api = api_as(SUPPORT)
        assert api.get(CP).status_code == 200
        before = store_state()
        for method in ("put", "patch"):
            response = getattr(api, method)(CP, body({"a": 1}))
            assert_error(response, 403, "permission_denied")
        assert store_state() == before

    def test_403_comes_before_the_rules(self, api_as: ApiFactory) -> None:
        assert_error(api_as(SUPPORT).put(CP, body({"": 1})), 403)


class Test404:
    def test_missing_and_unreadable_objects_get_the_same_answer(self, api_as: ApiFactory) -> None:
        missing = api_as(SOME_TEST).get(url("accounts", "A-000000"))
        unreadable = api_as(SOME_TEST).get(url("accounts", "A-12345"))
        assert assert_error(missing, 404, "not_found") == assert_error(unreadable, 404)
        assert missing.json()["error"]["message"] == NOT_FOUND

    def test_an_unreadable_object_is_404_for_writes_too_even_with_a_bad_body(
        self, api_as: ApiFactory
    ) -> None:
        api = api_as(COOL_USER)
        before = store_state()
        assert_error(api.put(ACCOUNT, body({"a": 1})), 404)
        assert_error(api.put(ACCOUNT, body({"": "x" * 3000})), 404)
        assert_error(api.patch(ACCOUNT, "{not json"), 404)
        assert store_state() == before

    def test_malformed_or_unknown_identifiers(
        self, api_as: ApiFactory, subtests: pytest.Subtests
    ) -> None:
        api = api_as(PARTNER)
        for collection, identifier in [
            ("counterparts", "not-a-uuid"),
            ("counterparts", COUNTERPART_ONE.upper().replace("-", "")),
            ("counterparts", "{" + COUNTERPART_ONE + "}"),
            ("payables", "3a9c5e1e-0000-4000-8000-00000000002g"),
            ("properties", "abc"),
            ("properties", "0"),
            ("properties", "-1"),
            ("properties", "1.0"),
            ("properties", "99999999999999999999999"),
            ("properties", "\u0661"),  # an Arabic-Indic digit one
            ("accounts", "x" * 300),
            ("account_users", "nobody@example.com"),
        ]:
            with subtests.test(collection=collection, identifier=identifier):
                response = api.get(url(collection, identifier))
                assert_error(response, 404, "not_found")
                assert response.json()["error"]["message"] == NOT_FOUND

    def test_unknown_collections_and_paths_are_json_404s(
        self, api_as: ApiFactory, subtests: pytest.Subtests
    ) -> None:
        api = api_as(PARTNER)
        for path in (
            "/v1/widgets/1/partner_metadata",
            "/v1/Counterparts/1/partner_metadata",
            f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata/",
            "/v1/accounts/A/154321/partner_metadata",
            "/v1/partner_metadata/x/partner_metadata",
        ):
            for method in ("GET", "PUT", "PATCH", "POST", "DELETE"):
                with subtests.test(path=path, method=method):
                    assert_error(api.generic(method, path, body({})), 404, "not_found")

    def test_the_entity_header_scopes_entity_owned_types(self, api_as: ApiFactory) -> None:
        api = api_as(PARTNER)
        assert api.get(CP, **{"X-Monite-Entity-Id": ENTITY_ONE}).status_code == 200
        for scope in (ENTITY_TWO, "not-a-uuid", ""):
            assert_error(api.get(CP, **{"X-Monite-Entity-Id": scope}), 404, "not_found")
        other = url("counterparts", COUNTERPART_TWO)
        assert_error(api.put(other, body({"a": 1}), **{"X-Monite-Entity-Id": ENTITY_ONE}), 404)
        entity = url("entities", ENTITY_ONE)
        assert api.get(entity, **{"X-Monite-Entity-Id": ENTITY_ONE}).status_code == 200
        assert_error(api.get(entity, **{"X-Monite-Entity-Id": ENTITY_TWO}), 404)


class Test405:
    def test_other_methods(self, api_as: ApiFactory, subtests: pytest.Subtests) -> None:
        for method in ("POST", "DELETE", "OPTIONS", "TRACE"):
            with subtests.test(method=method):
                response = api_as(PARTNER).generic(method, CP, body({}))
                assert_error(response, 405, "method_not_allowed")
                assert response["Allow"] == "GET, PUT, PATCH, HEAD"

    def test_head_is_get_without_a_body(self, api_as: ApiFactory) -> None:
        response = api_as(PARTNER).generic("HEAD", CP)
        assert response.status_code == 200
        assert response["ETag"] == rules.document_etag({})

    def test_the_token_endpoint_serves_only_post(self, demo: None) -> None:
        response = Client().get("/v1/auth/token")
        assert_error(response, 405, "method_not_allowed")
        assert response["Allow"] == "POST"


class Test413:
    def test_a_body_over_64_kib_is_refused_before_parsing(self, api_as: ApiFactory) -> None:
        text = body({"k": "x" * (64 * 1024)})
        before = store_state()
        response = api_as(PARTNER).put(CP, text)
        payload = assert_error(response, 413, "payload_too_large")
        assert "65536" in payload["error"]["message"]
        assert store_state() == before

    def test_the_parser_bounds_a_body_without_a_declared_length(self) -> None:
        with pytest.raises(RequestDataTooBig):
            StrictJSONParser().parse(BytesIO(b" " * (rules.MAX_BODY_BYTES + 1)))
        assert StrictJSONParser().parse(BytesIO(b" " * 10 + b"{}")) == {}

    def test_request_data_too_big_is_answered_413(self) -> None:
        response = exception_handler(RequestDataTooBig("too big"), {})
        assert response.status_code == 413
        assert json.loads(response.content)["error"]["type"] == "payload_too_large"

    def test_the_view_refuses_a_large_body_even_without_the_middleware(
        self, token_for: TokenFactory
    ) -> None:
        view = PartnerMetadataView.as_view(linkable=linkables.by_collection("counterparts"))
        request = APIRequestFactory().put(
            CP,
            body({"k": "x" * (70 * 1024)}),
            content_type=JSON,
            HTTP_AUTHORIZATION=f"Bearer {token_for(PARTNER)}",
        )
        response = view(request, identifier=COUNTERPART_ONE)  # no BodySizeLimitMiddleware
        assert response.status_code == 413
        assert json.loads(response.content)["error"]["type"] == "payload_too_large"


class Test415:
    def test_a_body_that_is_not_sent_as_json(
        self, api_as: ApiFactory, subtests: pytest.Subtests
    ) -> None:
        for content_type in (
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "",
        ):
            with subtests.test(content_type=content_type):
                response = api_as(PARTNER).put(CP, body({"a": 1}), content_type=content_type)
                assert_error(response, 415, "unsupported_media_type")

    def test_json_with_a_charset_parameter_is_json(self, api_as: ApiFactory) -> None:
        response = api_as(PARTNER).put(CP, body({"a": 1}), content_type=f"{JSON}; charset=utf-8")
        assert response.status_code == 200


class Test422:
    def test_the_envelope(self, api_as: ApiFactory, subtests: pytest.Subtests) -> None:
        api = api_as(PARTNER)
        for payload, loc, error_type in [
            ({}, ["body", "metadata"], "value_error.missing"),
            ({"meta": {}}, ["body", "meta"], "value_error.extra"),
            ({"metadata": {}, "x": 1}, ["body", "x"], "value_error.extra"),
            ([{"metadata": {}}], ["body"], "type_error.dict"),
            ("metadata", ["body"], "type_error.dict"),
            (None, ["body"], "type_error.dict"),
            ({"metadata": None}, ["body", "metadata"], "type_error.dict"),
            ({"metadata": [1, 2]}, ["body", "metadata"], "type_error.dict"),
            ({"metadata": "text"}, ["body", "metadata"], "type_error.dict"),
        ]:
            with subtests.test(payload=payload):
                result = assert_error(api.put(CP, json.dumps(payload)), 422)
                assert [(d["loc"], d["type"]) for d in result["detail"]] == [(loc, error_type)]
                assert all(d["msg"] for d in result["detail"])

    def test_an_envelope_error_says_what_to_send(self, api_as: ApiFactory) -> None:
        result = assert_error(api_as(PARTNER).put(CP, "{}"), 422, "invalid_request")
        assert '{"metadata": {}}' in result["error"]["message"]
        result = assert_error(api_as(PARTNER).put(CP, "[]"), 422, "invalid_request")
        assert "not an array" in result["error"]["message"]

    def test_rules_say_which_rule_and_by_how_much(
        self, api_as: ApiFactory, subtests: pytest.Subtests
    ) -> None:
        api = api_as(PARTNER)
        for document, loc, message in [
            ({"": 1}, ["body", "metadata", ""], "key must not be empty"),
            (
                {"k" * 101: 1},
                ["body", "metadata", "k" * 101],
                "key is 101 characters; the limit is 100",
            ),
            ({"\t ": 1}, ["body", "metadata", "\t "], "key must not contain control characters"),
            ({"  ": 1}, ["body", "metadata", "  "], "key must not be only white space"),
            ({"a": "\u0000"}, ["body", "metadata", "a"], "the NUL character"),
            ({"a": [[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}, ["body", "metadata", "a"], "17 levels"),
        ]:
            with subtests.test(document=document):
                result = assert_error(api.put(CP, body(document)), 422, "invalid_metadata")
                assert [d["loc"] for d in result["detail"]] == [loc]
                assert message in result["detail"][0]["msg"]
                assert message in result["error"]["message"]

    def test_absurd_nesting_is_refused_as_a_rule_not_a_crash(self, api_as: ApiFactory) -> None:
        text = '{"metadata": {"a": ' + "[" * 5000 + "]" * 5000 + "}}"
        result = assert_error(api_as(PARTNER).put(CP, text), 422, "invalid_metadata")
        assert result["detail"][0]["type"] == "value_error.too_deep"


class Test500:
    def test_an_unexpected_error_is_a_generic_json_500_and_is_logged(
        self, api_as: ApiFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        def broken(**kwargs: Any) -> NoReturn:
            raise RuntimeError('relation "metadata_metadata" does not exist')

        monkeypatch.setattr(selectors, "read_document", broken)
        with caplog.at_level(logging.ERROR, logger="metadata.rest"):
            response = api_as(PARTNER).get(CP)
        payload = assert_error(response, 500, "server_error")
        assert "relation" not in response.content.decode()
        assert "RuntimeError" not in payload["error"]["message"]
        assert any(record.exc_info for record in caplog.records if record.name == "metadata.rest")


def test_any_unknown_path_under_v1_is_a_json_404(db: None) -> None:
    from django.test import Client

    for path in ("/v1/nothing", "/v1/accounts", "/v1/schema/extra", "/v1/auth/token/x"):
        response = Client().get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["type"] == "not_found"
