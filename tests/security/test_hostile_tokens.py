"""Every kind of bad token is a 401 on REST and the contract's KT-CT code on GraphQL (issue 6)."""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Callable
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from metadata.models import Metadata, MetadataChange, User
from tests.conftest import SOME_TEST

REST = "/v1/accounts/A-154321/partner_metadata"
READ = """
query metadata($id: String!) {
  metadata(linkedObjectType: ACCOUNT, identifier: $id) { key value }
}
"""
WRITE = """
mutation updateMetadata($input: MetadataInput!) {
  updateMetadata(input: $input) { metadata { key value } }
}
"""


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def user() -> User:
    return User.objects.get(email=SOME_TEST)


def expired() -> str:
    token = AccessToken.for_user(user())
    token.set_exp(lifetime=-timedelta(seconds=5))
    return str(token)


def wrong_key() -> str:
    payload = dict(AccessToken.for_user(user()).payload)
    return jwt.encode(payload, "not-the-signing-key-0123456789abcdefghij", algorithm="HS256")


def alg_none() -> str:
    payload = dict(AccessToken.for_user(user()).payload)
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."


def tampered() -> str:
    header, payload, signature = str(AccessToken.for_user(user())).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["user_id"] = "3a9c5e1e-0000-4000-8000-0000000000b1"  # the partner's id
    return f"{header}.{b64(claims)}.{signature}"


def refresh_as_access() -> str:
    return str(RefreshToken.for_user(user()))


def expired_with_wrong_key() -> str:
    token = AccessToken.for_user(user())
    token.set_exp(lifetime=-timedelta(seconds=5))
    return jwt.encode(dict(token.payload), "not-the-signing-key-0123456789abcdef", "HS256")


def other_algorithm() -> str:
    payload = dict(AccessToken.for_user(user()).payload)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the short key is the point: it must not matter
        return jwt.encode(payload, settings.JWT_SIGNING_KEY, algorithm="HS512")


# (name, header maker, GraphQL code)
CASES: list[tuple[str, Callable[[], str | None], str]] = [
    ("missing", lambda: None, "KT-CT-1112"),
    ("garbage", lambda: "Bearer garbage", "KT-CT-1111"),
    ("wrong scheme", lambda: "Basic dXNlcjpwYXNz", "KT-CT-1111"),
    ("bad signature", lambda: f"JWT {wrong_key()}", "KT-CT-1111"),
    ("tampered payload", lambda: f"JWT {tampered()}", "KT-CT-1111"),
    ("alg none", lambda: f"JWT {alg_none()}", "KT-CT-1111"),
    ("another algorithm", lambda: f"JWT {other_algorithm()}", "KT-CT-1111"),
    ("expired", lambda: f"JWT {expired()}", "KT-CT-1124"),
    ("expired and forged", lambda: f"JWT {expired_with_wrong_key()}", "KT-CT-1111"),
    ("refresh token", lambda: f"JWT {refresh_as_access()}", "KT-CT-1111"),
]


def rest(method: str, header: str | None) -> object:
    headers = {"Authorization": header} if header is not None else {}
    body = json.dumps({"metadata": {"k": 1}}) if method == "put" else None
    client = Client()
    if method == "put":
        return client.put(REST, body, content_type="application/json", headers=headers)
    return client.get(REST, headers=headers)


def graphql(query: str, variables: dict, header: str | None) -> dict:
    headers = {"Authorization": header} if header is not None else {}
    response = Client().post(
        "/v1/graphql/",
        json.dumps({"query": query, "variables": variables}),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 200
    return response.json()


def graphql_codes(header: str | None) -> list[str]:
    read = graphql(READ, {"id": "A-154321"}, header)
    write = graphql(
        WRITE,
        {
            "input": {
                "linkedObjectType": "ACCOUNT",
                "identifier": "A-154321",
                "key": "k",
                "value": "1",
            }
        },
        header,
    )
    assert read["data"] == {"metadata": None}
    assert write["data"] == {"updateMetadata": None}
    return [
        read["errors"][0]["extensions"]["errorCode"],
        write["errors"][0]["extensions"]["errorCode"],
    ]


@pytest.mark.parametrize(("name", "make", "code"), CASES, ids=[c[0] for c in CASES])
def test_bad_tokens_are_refused_by_both_doors_and_change_nothing(
    demo: None, name: str, make: Callable[[], str | None], code: str
) -> None:
    header = make()
    for method in ("get", "put"):
        response = rest(method, header)
        assert response.status_code == 401, (name, method, response.content)
        assert response.json()["error"]["type"]
        assert "WWW-Authenticate" in response
    assert graphql_codes(header) == [code, code]
    assert Metadata.objects.count() == MetadataChange.objects.count() == 0


@pytest.mark.parametrize("change", ["deactivate", "delete"])
def test_tokens_of_deactivated_or_deleted_users_are_refused(
    token_for: Callable[[str], str], change: str
) -> None:
    token = token_for(SOME_TEST)
    assert rest("get", f"Bearer {token}").status_code == 200
    if change == "deactivate":
        User.objects.filter(email=SOME_TEST).update(is_active=False)
    else:
        User.objects.filter(email=SOME_TEST).delete()
    assert rest("get", f"Bearer {token}").status_code == 401
    assert rest("put", f"Bearer {token}").status_code == 401
    assert graphql_codes(f"JWT {token}") == ["KT-CT-1111", "KT-CT-1111"]
    assert Metadata.objects.count() == 0
