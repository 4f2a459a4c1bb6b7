"""Every row of the contract's error table (section 6), and what a refused write leaves."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.test import Client
from django.utils import timezone

from metadata.models import Metadata, MetadataChange, User
from metadata.tokens import access_token_for
from tests.conftest import COUNTERPART_TWO, PARTNER, SOME_TEST, SUPPORT
from tests.graphql.conftest import (
    CREATE,
    READ,
    READ_KEY,
    TOKEN,
    UPDATE,
    extensions,
    metadata_input,
    only_error,
    post,
)


def error_of(response, field):
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["data"] == {field: None}
    error = only_error(body)
    assert error["path"] == [field]
    assert error["locations"]
    return error


def assert_code(response, field, error_type, error_code):
    error = error_of(response, field)
    assert error["extensions"]["errorType"] == error_type
    assert error["extensions"]["errorCode"] == error_code
    assert error["extensions"]["errorDescription"]
    return error


def expired_token(email):
    token = access_token_for(User.objects.get(email=email))
    token.set_exp(from_time=timezone.now() - timedelta(hours=2))
    return str(token)


def tampered(token):
    header, payload, signature = token.split(".")
    return ".".join([header, payload, ("A" if signature[0] != "A" else "B") + signature[1:]])


@pytest.mark.parametrize(
    "query, variables, field",
    [
        (UPDATE, metadata_input(), "updateMetadata"),
        (READ, {"type": "ACCOUNT", "id": "A-154321"}, "metadata"),
        (READ_KEY, {"type": "ACCOUNT", "id": "A-154321", "key": "k"}, "metadataForKey"),
    ],
)
def test_no_authorization_header_is_kt_ct_1112(gql, query, variables, field):
    response = gql(query, variables, as_user=None)
    assert_code(response, field, "AUTHORIZATION", "KT-CT-1112")


@pytest.mark.parametrize(
    "authorization",
    ["JWT not-a-token", "JWT a.b.c", "Basic dXNlcjpwYXNz", "JWT", "JWT one two"],
)
def test_invalid_token_is_kt_ct_1111(demo, authorization):
    response = post(Client(), UPDATE, metadata_input(), authorization=authorization)
    assert_code(response, "updateMetadata", "AUTHORIZATION", "KT-CT-1111")


def test_tampered_token_is_kt_ct_1111(token_for):
    token = tampered(token_for(PARTNER))
    response = post(Client(), UPDATE, metadata_input(), authorization=f"JWT {token}")
    assert_code(response, "updateMetadata", "AUTHORIZATION", "KT-CT-1111")


def test_expired_token_is_kt_ct_1124(demo):
    response = post(
        Client(), UPDATE, metadata_input(), authorization=f"JWT {expired_token(PARTNER)}"
    )
    assert_code(response, "updateMetadata", "AUTHORIZATION", "KT-CT-1124")


def test_expired_token_with_a_bad_signature_is_kt_ct_1111(demo):
    token = tampered(expired_token(PARTNER))
    response = post(Client(), UPDATE, metadata_input(), authorization=f"JWT {token}")
    assert_code(response, "updateMetadata", "AUTHORIZATION", "KT-CT-1111")


def test_missing_and_unreadable_objects_get_the_same_kt_ct_4123(gql):
    missing = gql(UPDATE, metadata_input(identifier="A-000000"), as_user=SOME_TEST)
    unreadable = gql(UPDATE, metadata_input(identifier="A-12345"), as_user=SOME_TEST)
    malformed = gql(
        UPDATE,
        metadata_input(linked_object_type="COUNTERPART", identifier="not-a-uuid"),
        as_user=SOME_TEST,
    )
    errors = [
        assert_code(response, "updateMetadata", "AUTHORIZATION", "KT-CT-4123")
        for response in (missing, unreadable, malformed)
    ]
    assert errors[0]["message"] == errors[1]["message"] == errors[2]["message"]
    assert errors[0]["extensions"] == errors[1]["extensions"] == errors[2]["extensions"]


def test_unreadable_object_hides_the_key_checks(gql):
    """Order of checks: a broken rule on an unreadable object is still KT-CT-4123."""
    response = gql(
        UPDATE,
        metadata_input(key="", value="NaN", identifier="A-12345"),
        as_user=SOME_TEST,
    )
    assert_code(response, "updateMetadata", "AUTHORIZATION", "KT-CT-4123")


def test_readable_but_not_writable_is_kt_ct_4124(gql):
    response = gql(UPDATE, metadata_input(), as_user=SUPPORT)
    assert_code(response, "updateMetadata", "AUTHORIZATION", "KT-CT-4124")
    # ...and the same caller may read it.
    read = gql(READ, {"type": "ACCOUNT", "id": "A-154321"}, as_user=SUPPORT)
    assert read.json() == {"data": {"metadata": []}}


@pytest.mark.parametrize(
    "key, value, input_path",
    [
        ("", "1", ["input", "key"]),
        ("k" * 101, "1", ["input", "key"]),
        ("tab\there", "1", ["input", "key"]),
        ("   ", "1", ["input", "key"]),
        ("nul\x00", "1", ["input", "key"]),
        ("k", '"nul\\u0000"', ["input", "value"]),
        ("k", "[" * 17 + "]" * 17, ["input", "value"]),
        ("k", json.dumps("x" * 2000), ["input", "value"]),
        ("k", "NaN", ["input", "value"]),
        ("k", "{'single': 'quotes'}", ["input", "value"]),
    ],
    ids=[
        "empty",
        "long",
        "control",
        "blank",
        "nul-key",
        "nul-value",
        "deep",
        "large",
        "nan",
        "not-json",
    ],
)
def test_broken_rule_is_kt_ct_8411_with_validation_errors(gql, key, value, input_path):
    response = gql(UPDATE, metadata_input(key=key, value=value))
    error = assert_code(response, "updateMetadata", "VALIDATION", "KT-CT-8411")
    validation = error["extensions"]["validationErrors"]
    assert validation and all(v["inputPath"] == input_path for v in validation)
    assert all(v["message"] for v in validation)
    assert not Metadata.objects.exists()
    assert not MetadataChange.objects.exists()


def test_create_of_an_existing_key_is_kt_ct_8414(gql):
    assert gql(CREATE, metadata_input()).json()["data"]["createMetadata"]["metadata"]
    response = gql(CREATE, metadata_input(value='"other"'))
    error = assert_code(response, "createMetadata", "VALIDATION", "KT-CT-8414")
    assert error["extensions"]["validationErrors"][0]["inputPath"] == ["input", "key"]
    assert Metadata.objects.get().value == {"pet_type": "dog", "name": "fang"}
    assert MetadataChange.objects.count() == 1


def test_metadata_for_a_missing_key_is_kt_ct_8416(gql):
    response = gql(READ_KEY, {"type": "ACCOUNT", "id": "A-154321", "key": "absent"})
    assert_code(response, "metadataForKey", "NOT_FOUND", "KT-CT-8416")


def test_metadata_for_a_key_of_an_unreadable_object_is_4123_not_8416(gql):
    response = gql(READ_KEY, {"type": "ACCOUNT", "id": "A-12345", "key": "x"}, as_user=SOME_TEST)
    assert_code(response, "metadataForKey", "AUTHORIZATION", "KT-CT-4123")


@pytest.mark.parametrize(
    "token_input",
    [
        {"email": SOME_TEST, "password": "wrong"},
        {"email": "nobody@example.com", "password": "demo-password"},
        {"email": SOME_TEST},
        {},
    ],
)
def test_wrong_email_or_password_is_kt_ct_1138(gql, demo, token_input):
    response = gql(TOKEN, {"input": token_input}, as_user=None)
    error = assert_code(response, "obtainKrakenToken", "VALIDATION", "KT-CT-1138")
    assert error["extensions"]["validationErrors"][0]["inputPath"] == ["input"]


def test_throttled_is_kt_ct_1199_for_every_field_of_the_request(gql, settings):
    settings.GATEWAY_THROTTLE_RATES = {**settings.GATEWAY_THROTTLE_RATES, "user": "2/hour"}
    query = """
    mutation two($a: MetadataInput!, $b: MetadataInput!) {
      a: updateMetadata(input: $a) { metadata { key } }
      b: updateMetadata(input: $b) { metadata { key } }
    }
    """
    variables = {"a": metadata_input(key="a")["input"], "b": metadata_input(key="b")["input"]}
    # One request counts once, whatever its fields.
    assert gql(query, variables).json()["data"]["a"]
    assert gql(UPDATE, metadata_input(key="c")).json()["data"]["updateMetadata"]
    response = gql(query, variables)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"a": None, "b": None}
    for error in body["errors"]:
        assert error["extensions"]["errorType"] == "THROTTLED"
        assert error["extensions"]["errorCode"] == "KT-CT-1199"
        assert "retry after" in error["message"]
    assert sorted(Metadata.objects.values_list("key", flat=True)) == ["a", "b", "c"]
    # Another caller has a budget of their own.
    assert gql(UPDATE, metadata_input(key="d"), as_user=SOME_TEST).json()["data"]["updateMetadata"]


def test_token_requests_are_throttled_per_address(gql, demo, settings):
    settings.GATEWAY_THROTTLE_RATES = {**settings.GATEWAY_THROTTLE_RATES, "anonymous": "1/hour"}
    login = {"input": {"email": SOME_TEST, "password": "wrong"}}
    assert extensions(gql(TOKEN, login, as_user=None).json())["errorCode"] == "KT-CT-1138"
    assert extensions(gql(TOKEN, login, as_user=None).json())["errorCode"] == "KT-CT-1199"


def test_unexpected_errors_carry_no_python_or_database_text(gql, monkeypatch, caplog):
    def broken(**kwargs):
        raise IntegrityError("UNIQUE constraint failed: metadata_metadata.key")

    monkeypatch.setattr("metadata.graphql.mutations.services.set_key", broken)
    response = gql(UPDATE, metadata_input())
    assert response.status_code == 200
    text = response.content.decode()
    for leak in ("UNIQUE", "IntegrityError", "Traceback", "django.", "metadata_metadata"):
        assert leak not in text
    error = error_of(response, "updateMetadata")
    assert error["extensions"]["errorType"] == "INTERNAL"
    # ...but the server's log has the whole story.
    assert any("UNIQUE constraint failed" in str(r.exc_info) for r in caplog.records)


def test_auth_is_per_field(gql, demo):
    """A request mixing a public and a protected field: each answers for itself."""
    query = """
    mutation both($input: MetadataInput!, $login: ObtainJSONWebTokenInput!) {
      obtainKrakenToken(input: $login) { token }
      updateMetadata(input: $input) { metadata { key } }
    }
    """
    variables = {**metadata_input(), "login": {"email": SOME_TEST, "password": "demo-password"}}
    body = gql(query, variables, as_user=None).json()
    assert body["data"]["obtainKrakenToken"]["token"]
    assert body["data"]["updateMetadata"] is None
    assert extensions(body)["errorCode"] == "KT-CT-1112"


REFUSALS = [
    pytest.param(UPDATE, metadata_input(), None, id="no-token"),
    pytest.param(UPDATE, metadata_input(identifier="A-12345"), SOME_TEST, id="unreadable"),
    pytest.param(UPDATE, metadata_input(), SUPPORT, id="read-only"),
    pytest.param(UPDATE, metadata_input(value="{"), PARTNER, id="not-json"),
    pytest.param(UPDATE, metadata_input(value="Infinity"), PARTNER, id="infinity"),
    pytest.param(UPDATE, metadata_input(key="k" * 101), PARTNER, id="long-key"),
    pytest.param(CREATE, metadata_input(key="existing"), PARTNER, id="create-existing"),
    pytest.param(
        UPDATE, metadata_input(key="existing", compareDigest="0" * 64), PARTNER, id="stale-digest"
    ),
    pytest.param(
        UPDATE,
        metadata_input(linked_object_type="COUNTERPART", identifier=COUNTERPART_TWO),
        "entity.user@example.com",
        id="other-entity",
    ),
]


@pytest.mark.parametrize("query, variables, as_user", REFUSALS)
def test_a_refused_mutation_changes_nothing(gql, query, variables, as_user):
    gql(UPDATE, metadata_input(key="existing", value='"before"'))
    rows = list(Metadata.objects.values_list("key", "value", "updated_at"))
    changes = MetadataChange.objects.count()

    body = gql(query, variables, as_user=as_user).json()

    assert body["errors"]
    assert list(Metadata.objects.values_list("key", "value", "updated_at")) == rows
    assert MetadataChange.objects.count() == changes
