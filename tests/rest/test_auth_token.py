"""`POST /v1/auth/token`: Monite's three grants, and the 401/422 answers."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken

from metadata.models import PartnerClient, User
from metadata.tokens import principal_from_token
from tests.conftest import (
    COUNTERPART_ONE,
    DEMO_PASSWORD,
    ENTITY_USER,
    ENTITY_USER_ID,
    PARTNER,
    PARTNER_CLIENT_ID,
    PARTNER_CLIENT_SECRET,
    SOME_TEST,
)
from tests.rest.conftest import JSON, assert_error, url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hashes(demo: None, settings: Any) -> None:
    """The demo's PBKDF2 hashes cost about a second each; the grants do not depend on them.

    Passwords and the client secret are re-hashed with a fast hasher (tests only), so every
    grant below still checks a real hash. The live tests use the demo's own hashes.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    for user in User.objects.all():
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    for client in PartnerClient.objects.all():
        client.set_secret(PARTNER_CLIENT_SECRET)
        client.save(update_fields=["secret_hash"])


TOKEN_URL = "/v1/auth/token"
UNKNOWN_USER_ID = "3a9c5e1e-0000-4000-8000-0000000000e9"
CLIENT = {"client_id": PARTNER_CLIENT_ID, "client_secret": PARTNER_CLIENT_SECRET}


def post(data: Any, **headers: str) -> Any:
    text = data if isinstance(data, str) else json.dumps(data)
    return Client(enforce_csrf_checks=True).post(
        TOKEN_URL, text, content_type=JSON, headers=headers
    )


def issued_for(response: Any) -> str:
    """The email of the user a 200 token answer acts as; checks the answer's form."""
    assert response.status_code == 200, response.content
    payload = response.json()
    assert set(payload) == {"access_token", "token_type", "expires_in"}
    assert payload["token_type"] == "Bearer"
    assert payload["expires_in"] == 3600
    assert response["Cache-Control"] == "no-store"
    token = AccessToken(payload["access_token"])
    assert token["exp"] - token["iat"] == 3600
    return User.objects.get(pk=token["user_id"]).email


def test_client_credentials_acts_as_the_partner_clients_user(demo: None) -> None:
    response = post({"grant_type": "client_credentials", **CLIENT})
    assert issued_for(response) == PARTNER


def test_a_client_credentials_token_names_its_client_and_others_name_none(demo: None) -> None:
    client_token = post({"grant_type": "client_credentials", **CLIENT}).json()["access_token"]
    assert principal_from_token(client_token).client_id == uuid.UUID(PARTNER_CLIENT_ID)
    grant = {"grant_type": "entity_user", **CLIENT, "entity_user_id": ENTITY_USER_ID}
    user_token = post(grant).json()["access_token"]
    assert principal_from_token(user_token).client_id is None


def test_entity_user_acts_as_that_entity_user(demo: None) -> None:
    grant = {"grant_type": "entity_user", **CLIENT, "entity_user_id": ENTITY_USER_ID}
    assert issued_for(post(grant)) == ENTITY_USER


@pytest.mark.parametrize("grant_type", [{"grant_type": "password"}, {}])
def test_password_with_or_without_grant_type(demo: None, grant_type: dict[str, str]) -> None:
    response = post({**grant_type, "email": SOME_TEST, "password": DEMO_PASSWORD})
    assert issued_for(response) == SOME_TEST


def test_an_issued_token_opens_the_rest_door(demo: None) -> None:
    grant = {"grant_type": "entity_user", **CLIENT, "entity_user_id": ENTITY_USER_ID}
    token = post(grant).json()["access_token"]
    response = Client().get(url("counterparts", COUNTERPART_ONE), headers={"Authorization": token})
    assert response.status_code == 200


def test_a_stale_authorization_header_does_not_block_a_login(demo: None) -> None:
    response = post({"email": SOME_TEST, "password": DEMO_PASSWORD}, Authorization="Bearer junk")
    assert issued_for(response) == SOME_TEST


BAD_CREDENTIALS = [
    {"grant_type": "client_credentials", "client_id": PARTNER_CLIENT_ID, "client_secret": "no"},
    {"grant_type": "client_credentials", "client_id": "not-a-uuid", "client_secret": "x"},
    {
        "grant_type": "client_credentials",
        "client_id": "3a9c5e1e-0000-4000-8000-0000000000cf",
        "client_secret": PARTNER_CLIENT_SECRET,
    },
    {"grant_type": "entity_user", **CLIENT, "entity_user_id": "not-a-uuid"},
    {"grant_type": "entity_user", **CLIENT, "entity_user_id": UNKNOWN_USER_ID},
    {
        "grant_type": "entity_user",
        "client_id": PARTNER_CLIENT_ID,
        "client_secret": "no",
        "entity_user_id": ENTITY_USER_ID,
    },
    {"grant_type": "password", "email": SOME_TEST, "password": "wrong"},
    {"email": "nobody@example.com", "password": DEMO_PASSWORD},
]


def test_bad_credentials_are_401(demo: None, subtests: pytest.Subtests) -> None:
    for grant in BAD_CREDENTIALS:
        with subtests.test(grant=grant):
            response = post(grant)
            assert_error(response, 401, "invalid_credentials")
            assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_entity_user_id_that_is_not_an_entity_user_is_401(demo: None) -> None:
    some_test_id = str(User.objects.get(email=SOME_TEST).pk)
    grant = {"grant_type": "entity_user", **CLIENT, "entity_user_id": some_test_id}
    assert_error(post(grant), 401, "invalid_credentials")


def test_an_inactive_users_password_is_401(demo: None) -> None:
    User.objects.filter(email=SOME_TEST).update(is_active=False)
    assert_error(post({"email": SOME_TEST, "password": DEMO_PASSWORD}), 401)


MALFORMED = [
    ({"grant_type": "authorization_code"}, ["body", "grant_type"], "type_error.enum"),
    ({}, ["body", "grant_type"], "value_error.missing"),
    ({"email": SOME_TEST}, ["body", "grant_type"], "value_error.missing"),
    (
        {"grant_type": "client_credentials", "client_id": PARTNER_CLIENT_ID},
        ["body", "client_secret"],
        "value_error.missing",
    ),
    (
        {"grant_type": "entity_user", **CLIENT},
        ["body", "entity_user_id"],
        "value_error.missing",
    ),
    (
        {"grant_type": "password", "email": SOME_TEST},
        ["body", "password"],
        "value_error.missing",
    ),
    ({"email": "a\u0000b", "password": "x"}, ["body", "email"], "null_characters_not_allowed"),
    ([CLIENT], ["body"], "type_error.dict"),
    ('"client_credentials"', ["body"], "type_error.dict"),
]


def test_malformed_requests_are_422_saying_what_is_missing(
    demo: None, subtests: pytest.Subtests
) -> None:
    for grant, loc, error_type in MALFORMED:
        with subtests.test(grant=grant):
            result = assert_error(post(grant), 422, "invalid_request")
            assert (result["detail"][0]["loc"], result["detail"][0]["type"]) == (loc, error_type)
            assert result["detail"][0]["msg"]


def test_the_missing_grant_type_message_lists_the_grants(demo: None) -> None:
    message = assert_error(post({}), 422)["error"]["message"]
    assert "client_credentials, entity_user or password" in message


def test_bodies_that_are_not_json_are_400(demo: None, subtests: pytest.Subtests) -> None:
    for text in ("", "{", '{"grant_type": NaN}'):
        with subtests.test(text=text):
            assert_error(post(text), 400, "not_json")


def test_a_form_body_is_415(demo: None) -> None:
    response = Client().post(TOKEN_URL, {"grant_type": "password"})
    assert_error(response, 415, "unsupported_media_type")
