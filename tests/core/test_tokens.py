"""One authentication for both doors: header forms and every kind of bad token."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from metadata import tokens
from metadata.errors import ExpiredToken, InvalidCredentials, InvalidToken, NotAuthenticated
from metadata.models import User
from tests.conftest import (
    DEMO_PASSWORD,
    ENTITY_USER_ID,
    PARTNER,
    PARTNER_CLIENT_ID,
    PARTNER_CLIENT_SECRET,
    SOME_TEST,
)


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("template", ["Bearer {}", "JWT {}", "{}", "bearer  {}", "jwt {}"])
def test_header_forms(token_for: Callable[[str], str], template: str) -> None:
    user = User.objects.get(email=SOME_TEST)
    principal = tokens.principal_from_header(template.format(token_for(SOME_TEST)))
    assert principal.user_id == user.pk


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_credentials(header: str | None) -> None:
    with pytest.raises(NotAuthenticated) as caught:
        tokens.principal_from_header(header)
    assert type(caught.value) is NotAuthenticated


@pytest.mark.parametrize("header", ["Bearer", "Basic abc", "Bearer a b", "garbage", "JWT x.y.z"])
def test_garbage_is_an_invalid_token(header: str) -> None:
    with pytest.raises(InvalidToken) as caught:
        tokens.principal_from_header(header)
    assert type(caught.value) is InvalidToken


def test_tampered_payload_is_invalid(token_for: Callable[[str], str]) -> None:
    header, _, signature = token_for(SOME_TEST).split(".")
    forged = b64({"token_type": "access", "user_id": ENTITY_USER_ID, "exp": 4102444800, "jti": "x"})
    with pytest.raises(InvalidToken):
        tokens.principal_from_header(f"{header}.{forged}.{signature}")


def test_alg_none_is_invalid(token_for: Callable[[str], str]) -> None:
    payload = jwt.decode(token_for(SOME_TEST), options={"verify_signature": False})
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."
    with pytest.raises(InvalidToken):
        tokens.principal_from_header(unsigned)


def test_wrong_key_is_invalid_even_when_expired(demo: None) -> None:
    user = User.objects.get(email=SOME_TEST)
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(minutes=1))
    payload = dict(token.payload)
    forged = jwt.encode(payload, "another-key-entirely-0123456789abcdef", algorithm="HS256")
    with pytest.raises(InvalidToken) as caught:
        tokens.principal_from_header(forged)
    assert type(caught.value) is InvalidToken
    with pytest.raises(ExpiredToken):
        tokens.principal_from_header(str(token))


def test_a_refresh_token_is_not_an_access_token(demo: None) -> None:
    refresh = RefreshToken.for_user(User.objects.get(email=SOME_TEST))
    with pytest.raises(InvalidToken):
        tokens.principal_from_header(f"JWT {refresh}")


def test_issued_tokens_have_the_contract_lifetimes(demo: None) -> None:
    issued = tokens.issue_tokens(User.objects.get(email=SOME_TEST))
    assert (issued.access_expires_in, issued.refresh_expires_in) == (3600, 7 * 24 * 3600)
    claims = jwt.decode(issued.access, settings.JWT_SIGNING_KEY, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 3600
    assert issued.payload["email"] == SOME_TEST


def test_refresh_gives_new_tokens_only_to_active_users(demo: None) -> None:
    user = User.objects.get(email=SOME_TEST)
    issued = tokens.issue_tokens(user)
    again = tokens.refresh_tokens(issued.refresh)
    assert tokens.principal_from_header(again.access).user_id == user.pk
    with pytest.raises(InvalidToken):
        tokens.refresh_tokens(issued.access)
    User.objects.filter(pk=user.pk).update(is_active=False)
    with pytest.raises(InvalidToken):
        tokens.refresh_tokens(issued.refresh)


def test_password_grant(demo: None) -> None:
    assert tokens.user_for_password(SOME_TEST, DEMO_PASSWORD).email == SOME_TEST
    for email, password in ((SOME_TEST, "wrong"), ("nobody@example.com", DEMO_PASSWORD)):
        with pytest.raises(InvalidCredentials):
            tokens.user_for_password(email, password)


def test_client_credentials_and_entity_user_grants(demo: None) -> None:
    client = tokens.client_for_credentials(PARTNER_CLIENT_ID, PARTNER_CLIENT_SECRET)
    assert client.user.email == PARTNER
    assert str(tokens.entity_user_for(client, ENTITY_USER_ID).pk) == ENTITY_USER_ID
    partner_id = str(client.user.pk)
    for bad_user in (partner_id, "not-a-uuid", "3a9c5e1e-0000-4000-8000-0000000000ff"):
        with pytest.raises(InvalidCredentials):
            tokens.entity_user_for(client, bad_user)
    for client_id, secret in ((PARTNER_CLIENT_ID, "wrong"), ("nope", PARTNER_CLIENT_SECRET)):
        with pytest.raises(InvalidCredentials):
            tokens.client_for_credentials(client_id, secret)


def test_issue_token_command(demo: None, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("issue_token", SOME_TEST)
    token = capsys.readouterr().out.strip()
    assert tokens.principal_from_header(token).user_id == User.objects.get(email=SOME_TEST).pk
    with pytest.raises(CommandError, match="No user"):
        call_command("issue_token", "nobody@example.com")
