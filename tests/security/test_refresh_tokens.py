"""Finding 5: refresh tokens are single-use, and die with the login they came from.

Contract section 11, "Tokens": refreshing returns a new pair and retires the used refresh
token; presenting a used one again is refused and revokes every token descending from that
login; a password change (through any path) or a deactivation revokes the user's refresh
tokens; a refreshed token keeps its login's expiry instead of a fresh 7 days.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import jwt
import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.utils import timezone
from rest_framework_simplejwt import tokens as simplejwt_tokens

from metadata.graphql.view import document_cache
from metadata.models import User
from tests.conftest import DEMO_PASSWORD, SOME_TEST

pytestmark = pytest.mark.usefixtures("demo")

URL = "/v1/graphql/"
TOKEN = """
mutation obtainKrakenToken($input: ObtainJSONWebTokenInput!) {
  obtainKrakenToken(input: $input) { token payload refreshToken refreshExpiresIn }
}
"""
NEW_PASSWORD = "a-brand-new-password-42"


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    document_cache.clear()
    cache.clear()


def obtain(token_input: dict[str, str]) -> dict[str, Any]:
    response = Client().post(
        URL, {"query": TOKEN, "variables": {"input": token_input}}, content_type="application/json"
    )
    assert response.status_code == 200
    return response.json()


def log_in(email: str = SOME_TEST, password: str = DEMO_PASSWORD) -> dict[str, Any]:
    body = obtain({"email": email, "password": password})
    assert body.get("errors") is None, body
    return body["data"]["obtainKrakenToken"]


def refresh(refresh_token: str) -> dict[str, Any]:
    return obtain({"refreshToken": refresh_token})


def issued(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors") is None, body
    return body["data"]["obtainKrakenToken"]


def assert_refused(body: dict[str, Any]) -> None:
    assert body["data"] == {"obtainKrakenToken": None}, body
    assert body["errors"][0]["extensions"]["errorCode"] == "KT-CT-1111"


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def test_refreshing_returns_a_new_pair_that_works() -> None:
    first = log_in()
    second = issued(refresh(first["refreshToken"]))
    assert second["refreshToken"] != first["refreshToken"]
    assert second["payload"]["email"] == SOME_TEST
    third = issued(refresh(second["refreshToken"]))
    assert third["token"]


def test_a_used_refresh_token_is_refused() -> None:
    first = log_in()
    issued(refresh(first["refreshToken"]))
    assert_refused(refresh(first["refreshToken"]))


def test_reusing_a_refresh_token_revokes_its_whole_login() -> None:
    stolen = log_in()["refreshToken"]
    rightful = issued(refresh(stolen))["refreshToken"]  # the owner refreshed first
    other_login = log_in()["refreshToken"]
    assert_refused(refresh(stolen))  # the thief's replay is detected...
    assert_refused(refresh(rightful))  # ...and ends every token of that login
    assert issued(refresh(other_login))["token"]  # another login of the same user lives on


def test_a_refreshed_token_keeps_its_login_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    first = log_in()
    expiry = claims(first["refreshToken"])["exp"]
    assert first["refreshExpiresIn"] == expiry
    a_day_later = timezone.now() + timedelta(days=1)
    monkeypatch.setattr(simplejwt_tokens, "aware_utcnow", lambda: a_day_later)
    second = issued(refresh(first["refreshToken"]))
    assert claims(second["refreshToken"])["exp"] == expiry
    assert second["refreshExpiresIn"] == expiry


def test_set_password_revokes_refresh_tokens() -> None:
    token = log_in()["refreshToken"]
    user = User.objects.get(email=SOME_TEST)
    user.set_password(NEW_PASSWORD)
    user.save()
    assert_refused(refresh(token))
    assert issued(refresh(log_in(password=NEW_PASSWORD)["refreshToken"]))["token"]


def test_a_password_change_in_the_admin_revokes_refresh_tokens() -> None:
    token = log_in()["refreshToken"]
    user = User.objects.get(email=SOME_TEST)
    admin = Client()
    admin.force_login(
        get_user_model().objects.create_superuser("root@example.com", "root-password-123")
    )
    response = admin.post(
        f"/admin/metadata/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert_refused(refresh(token))


def test_changepassword_command_revokes_refresh_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    token = log_in()["refreshToken"]
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)
    call_command("changepassword", SOME_TEST, stdout=None)
    assert User.objects.get(email=SOME_TEST).check_password(NEW_PASSWORD)
    assert_refused(refresh(token))


def test_deactivation_revokes_refresh_tokens_for_good() -> None:
    token = log_in()["refreshToken"]
    user = User.objects.get(email=SOME_TEST)
    user.is_active = False
    user.save()
    assert_refused(refresh(token))
    user.is_active = True
    user.save()
    assert_refused(refresh(token))  # reactivation does not bring old logins back


def test_deactivation_by_a_bulk_update_refuses_refresh() -> None:
    token = log_in()["refreshToken"]
    User.objects.filter(email=SOME_TEST).update(is_active=False)
    assert_refused(refresh(token))


def test_a_refresh_token_of_another_signing_key_is_refused() -> None:
    token = log_in()["refreshToken"]
    forged = jwt.encode(claims(token), "not-the-signing-key-0123456789abcdefghij", "HS256")
    assert_refused(refresh(forged))


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_refreshes_with_one_token_let_one_through_and_end_the_login() -> None:
    """However the two requests interleave, the second use of the token is a replay."""
    token = log_in()["refreshToken"]
    barrier = threading.Barrier(2)
    results: list[dict[str, Any]] = []

    def use() -> None:
        barrier.wait()
        try:
            results.append(refresh(token))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [body for body in results if body.get("errors") is None]
    assert len(results) == 2 and len(winners) == 1, results
    assert_refused(refresh(winners[0]["data"]["obtainKrakenToken"]["refreshToken"]))
