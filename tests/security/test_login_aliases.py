"""Finding 2: one GraphQL document must not carry many logins (contract section 11, "Tokens").

The per-request login throttle counts a request once; a document with a hundred aliased
`obtainKrakenToken` fields used to run a hundred password hashes under that one count. A
document with more than one such field, however it spells them (aliases, fragments, inline
fragments, several operations), is refused before any password is checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import base_user
from django.core.cache import cache
from django.test import Client

from metadata.graphql.view import document_cache
from tests.conftest import DEMO_PASSWORD, SOME_TEST

pytestmark = pytest.mark.usefixtures("demo")

URL = "/v1/graphql/"
LOGIN = (
    'obtainKrakenToken(input: {{email: "{email}", password: "{password}"}}) '
    "{{ token refreshToken }}"
)


def login(alias: str = "", *, password: str = f"wrong-{DEMO_PASSWORD}") -> str:
    prefix = f"{alias}: " if alias else ""
    return prefix + LOGIN.format(email=SOME_TEST, password=password)


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    document_cache.clear()
    cache.clear()


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every password hash the login path runs (checking a password, or the dummy hash
    Django's backend computes for an unknown email)."""
    calls: list[str] = []
    check, make = base_user.check_password, base_user.make_password

    def counted_check(*args: Any, **kwargs: Any) -> bool:
        calls.append("check")
        return check(*args, **kwargs)

    def counted_make(*args: Any, **kwargs: Any) -> str:
        calls.append("make")
        return make(*args, **kwargs)

    monkeypatch.setattr(base_user, "check_password", counted_check)
    monkeypatch.setattr(base_user, "make_password", counted_make)
    yield calls


def send(query: str, operation_name: str | None = None) -> Any:
    body: dict[str, Any] = {"query": query}
    if operation_name:
        body["operationName"] = operation_name
    return Client().post(URL, body, content_type="application/json")


def assert_refused(response: Any) -> None:
    body = response.json()
    assert response.status_code == 400, body
    assert "data" not in body or body["data"] is None
    assert len(body["errors"]) == 1, body
    error = body["errors"][0]
    assert "one obtainKrakenToken" in error["message"]
    assert error["extensions"]["errorType"] == "VALIDATION"
    assert error["extensions"]["errorCode"] == "KT-CT-8411"
    assert error["extensions"]["validationErrors"][0]["message"] == error["message"]


def test_one_login_per_document_still_works(hashes: list[str]) -> None:
    body = send(f"mutation {{ {login(password=DEMO_PASSWORD)} }}").json()
    assert body["data"]["obtainKrakenToken"]["token"]
    assert hashes.count("check") == 1  # (and a re-hash when the stored iterations are old)


@pytest.mark.parametrize("count", [2, 100])
def test_aliased_logins_are_refused_before_any_hash(hashes: list[str], count: int) -> None:
    fields = " ".join(login(f"a{i}") for i in range(count))
    assert_refused(send(f"mutation {{ {fields} }}"))
    assert hashes == []


def test_logins_in_fragments_are_counted(hashes: list[str]) -> None:
    query = f"""
    mutation {{ ...First ...Second }}
    fragment First on Mutation {{ {login("a")} }}
    fragment Second on Mutation {{ {login("b")} }}
    """
    assert_refused(send(query))
    assert hashes == []


def test_logins_in_inline_fragments_are_counted(hashes: list[str]) -> None:
    query = f"mutation {{ ... on Mutation {{ {login('a')} }} ... on Mutation {{ {login('b')} }} }}"
    assert_refused(send(query))
    assert hashes == []


def test_the_same_field_twice_is_counted_twice(hashes: list[str]) -> None:
    assert_refused(send(f"mutation {{ {login()} {login()} }}"))
    assert hashes == []


def test_logins_in_other_operations_of_the_document_are_counted(hashes: list[str]) -> None:
    query = f"mutation A {{ {login()} }} mutation B {{ {login()} }}"
    assert_refused(send(query, operation_name="A"))
    assert hashes == []


def test_a_refused_document_does_not_spend_the_login_budget(
    hashes: list[str], settings: Any
) -> None:
    """The refusal is not a login attempt: the caller's one login of the window remains."""
    settings.GATEWAY_THROTTLE_RATES = {**settings.GATEWAY_THROTTLE_RATES, "anonymous": "1/hour"}
    fields = " ".join(login(f"a{i}") for i in range(100))
    assert_refused(send(f"mutation {{ {fields} }}"))
    body = send(f"mutation {{ {login(password=DEMO_PASSWORD)} }}").json()
    assert body["data"]["obtainKrakenToken"]["token"], body
    throttled = send(f"mutation {{ {login(password=DEMO_PASSWORD)} }}").json()
    assert throttled["errors"][0]["extensions"]["errorCode"] == "KT-CT-1199"
    assert hashes.count("check") == 1
