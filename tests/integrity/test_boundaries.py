"""Each limit of the contract, exactly at the boundary and one past it, through every door.

The rules module has its own unit tests; these show that every door (REST, GraphQL, the
admin) lets the last allowed value through and refuses the first one past it, and that a
refusal changes nothing. Limits: the 64 KiB body (REST and GraphQL), a 100-character key
(of astral-plane characters: 100 code points, 200 UTF-16 units, 400 bytes), depth 16 and a
2000-byte document.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from metadata.models import Metadata, MetadataChange
from metadata.rules import MAX_BODY_BYTES, MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_KEY_LENGTH
from tests.admin.conftest import client_for
from tests.admin.helpers import save_inline
from tests.conftest import COUNTERPART_ONE, PARTNER, SUPPORT_LEAD
from tests.graphql.conftest import UPDATE, token_of

pytestmark = pytest.mark.django_db

REST_PATH = f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata"
GRAPHQL_PATH = "/v1/graphql/"
ADMIN_PATH = f"/admin/metadata/counterpart/{COUNTERPART_ONE}/change/"
ASTRAL = "\U0001d11e"  # MUSICAL SYMBOL G CLEF, outside the Basic Multilingual Plane


def nested(depth: int) -> Any:
    """A value of exactly `depth` (a scalar is 0, `[]` is 1)."""
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


def sized_value(document_bytes: int, key: str = "k") -> str:
    """A string value that makes `{key: value}` exactly `document_bytes` of compact JSON."""
    overhead = len(json.dumps({key: ""}, separators=(",", ":")).encode())
    return "x" * (document_bytes - overhead)


# (name, key, value, accepted): one key on an object that has none.
CASES: list[tuple[str, str, Any, bool]] = [
    ("key of 100 astral characters", ASTRAL * MAX_KEY_LENGTH, 1, True),
    ("key of 101 astral characters", ASTRAL * (MAX_KEY_LENGTH + 1), 1, False),
    ("value of depth 16", "deep", nested(MAX_DEPTH), True),
    ("value of depth 17", "deep", nested(MAX_DEPTH + 1), False),
    ("document of exactly 2000 bytes", "k", sized_value(MAX_DOCUMENT_BYTES), True),
    ("document of 2001 bytes", "k", sized_value(MAX_DOCUMENT_BYTES + 1), False),
]
IDS = [case[0] for case in CASES]


def state() -> tuple[list[tuple[str, Any]], int]:
    rows = Metadata.objects.filter(object_id=COUNTERPART_ONE).order_by("key")
    return list(rows.values_list("key", "value")), MetadataChange.objects.count()


def rest_write(key: str, value: Any) -> bool:
    token = token_of(PARTNER)
    response = Client().put(
        REST_PATH,
        json.dumps({"metadata": {key: value}}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code in {200, 422}, response.content
    return response.status_code == 200


def graphql_write(key: str, value: Any) -> bool:
    variables = {
        "input": {
            "linkedObjectType": "COUNTERPART",
            "identifier": COUNTERPART_ONE,
            "key": key,
            "value": json.dumps(value),
        }
    }
    response = Client().post(
        GRAPHQL_PATH,
        {"query": UPDATE, "variables": variables},
        content_type="application/json",
        headers={"Authorization": f"JWT {token_of(PARTNER)}"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    if body.get("errors"):
        (error,) = body["errors"]
        assert error["extensions"]["errorCode"] == "KT-CT-8411", body
        return False
    return body["data"]["updateMetadata"]["metadata"]["key"] == key


def admin_write(key: str, value: Any) -> bool:
    response = save_inline(client_for(SUPPORT_LEAD), ADMIN_PATH, add={key: value})
    assert response.status_code in {200, 302}, response.status_code
    return response.status_code == 302


DOORS: dict[str, Callable[[str, Any], bool]] = {
    "rest": rest_write,
    "graphql": graphql_write,
    "admin": admin_write,
}


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(("name", "key", "value", "accepted"), CASES, ids=IDS)
def test_each_limit_holds_at_its_boundary_through_every_door(
    demo: None, door: str, name: str, key: str, value: Any, accepted: bool
) -> None:
    before = state()
    assert DOORS[door](key, value) is accepted, (door, name)
    if accepted:
        assert state()[0] == [(key, value)]
        assert state()[1] == before[1] + 1
    else:
        assert state() == before


def padded(body: dict[str, Any], size: int) -> bytes:
    """`body` as JSON, padded with insignificant white space to exactly `size` bytes."""
    text = json.dumps(body).encode()
    assert len(text) <= size
    return text[:-1] + b" " * (size - len(text)) + b"}"


def post_body(path: str, method: str, body: bytes, authorization: str) -> Any:
    return Client().generic(
        method,
        path,
        body,
        content_type="application/json",
        headers={"Authorization": authorization},
    )


def test_rest_takes_a_body_of_64_kib_and_refuses_one_byte_more(demo: None) -> None:
    token = f"Bearer {token_of(PARTNER)}"
    document = {"metadata": {"k": "v"}}
    accepted = post_body(REST_PATH, "PUT", padded(document, MAX_BODY_BYTES), token)
    assert accepted.status_code == 200, accepted.content
    before = state()
    refused = post_body(REST_PATH, "PUT", padded({"metadata": {}}, MAX_BODY_BYTES + 1), token)
    assert refused.status_code == 413
    assert refused.json()["error"]["type"] == "payload_too_large"
    assert str(MAX_BODY_BYTES) in refused.json()["error"]["message"]
    assert state() == before


def test_graphql_takes_a_body_of_64_kib_and_refuses_one_byte_more(demo: None) -> None:
    token = f"JWT {token_of(PARTNER)}"
    variables = {
        "input": {
            "linkedObjectType": "COUNTERPART",
            "identifier": COUNTERPART_ONE,
            "key": "k",
            "value": '"v"',
        }
    }
    request = {"query": UPDATE, "variables": variables}
    accepted = post_body(GRAPHQL_PATH, "POST", padded(request, MAX_BODY_BYTES), token)
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["data"]["updateMetadata"]["metadata"]["key"] == "k"
    before = state()
    variables["input"]["value"] = '"w"'
    refused = post_body(GRAPHQL_PATH, "POST", padded(request, MAX_BODY_BYTES + 1), token)
    assert refused.status_code == 413
    (error,) = refused.json()["errors"]
    assert str(MAX_BODY_BYTES) in error["message"]
    assert error["extensions"]["errorType"] == "VALIDATION"
    assert state() == before
