"""`obtainKrakenToken`: email and password, or a refresh token (contract section 6)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from metadata.models import User
from tests.conftest import DEMO_PASSWORD, SOME_TEST
from tests.graphql.conftest import TOKEN, UPDATE, extensions, metadata_input, post

pytestmark = pytest.mark.usefixtures("demo")


def obtain(gql, token_input):
    response = gql(TOKEN, {"input": token_input}, as_user=None)
    assert response.status_code == 200
    return response.json()


def test_password_login_gives_tokens_that_work(gql, client):
    body = obtain(gql, {"email": SOME_TEST, "password": DEMO_PASSWORD})
    issued = body["data"]["obtainKrakenToken"]
    payload = issued["payload"]
    assert payload["email"] == SOME_TEST
    assert payload["exp"] - payload["origIat"] == 3600
    week = 7 * 24 * 3600
    assert abs(issued["refreshExpiresIn"] - (time.time() + week)) < 60
    update = post(client, UPDATE, metadata_input(), authorization=f"JWT {issued['token']}")
    assert update.json()["data"]["updateMetadata"]["metadata"]["key"] == "some_unique_key"


def test_refresh_token_gives_new_tokens(gql):
    first = obtain(gql, {"email": SOME_TEST, "password": DEMO_PASSWORD})
    refresh = first["data"]["obtainKrakenToken"]["refreshToken"]
    second = obtain(gql, {"refreshToken": refresh})["data"]["obtainKrakenToken"]
    assert second["token"] and second["refreshToken"]
    assert second["payload"]["email"] == SOME_TEST


def test_an_access_token_is_not_a_refresh_token(gql, token_for):
    body = obtain(gql, {"refreshToken": token_for(SOME_TEST)})
    assert extensions(body)["errorCode"] == "KT-CT-1111"


def test_an_expired_refresh_token_is_kt_ct_1124(gql):
    refresh = RefreshToken.for_user(User.objects.get(email=SOME_TEST))
    refresh.set_exp(from_time=timezone.now() - timedelta(days=8))
    body = obtain(gql, {"refreshToken": str(refresh)})
    assert body["data"] == {"obtainKrakenToken": None}
    assert extensions(body)["errorCode"] == "KT-CT-1124"


@pytest.mark.parametrize(
    "token_input",
    [
        {"email": SOME_TEST, "password": DEMO_PASSWORD, "refreshToken": "x"},
        {"password": DEMO_PASSWORD},
    ],
)
def test_ambiguous_or_incomplete_input_is_kt_ct_1138(gql, token_input):
    body = obtain(gql, token_input)
    assert extensions(body)["errorCode"] == "KT-CT-1138"
    assert body["data"] == {"obtainKrakenToken": None}


def test_inactive_users_cannot_log_in(gql):
    User.objects.filter(email=SOME_TEST).update(is_active=False)
    body = obtain(gql, {"email": SOME_TEST, "password": DEMO_PASSWORD})
    assert extensions(body)["errorCode"] == "KT-CT-1138"
