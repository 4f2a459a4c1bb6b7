"""Finding 6 of the round-2 review: partner clients are tenants (contract section 11).

The attacker is the second demo partner, client `...c2`, which serves Entity Two only. Its
user holds no permission; the first partner's user (`partner@example.com`) holds
CAN_MUTATE_METADATA, and client `...c1` must not borrow it either. Every refusal must look
exactly like a missing object, on both doors, and in lookups by metadata.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client

from metadata.graphql.view import document_cache
from metadata.models import APIKey, Entity, Metadata, PartnerClient, User
from metadata.models.clients import api_key_hash
from metadata.tokens import access_token_for, principal_from_token
from tests.conftest import (
    COUNTERPART_ONE,
    COUNTERPART_TWO,
    DEMO_API_KEY,
    DEMO_PASSWORD,
    ENTITY_ONE,
    ENTITY_TWO,
    ENTITY_USER_ID,
    PARTNER,
    PARTNER_CLIENT_ID,
    PARTNER_CLIENT_SECRET,
    PARTNER_CLIENT_TWO_ID,
    PARTNER_CLIENT_TWO_SECRET,
    PARTNER_TWO,
    PAYABLE_ONE,
    PAYABLE_TWO,
    SOME_TEST,
    SUPPORT_LEAD,
)
from tests.rest.conftest import JSON, body, url

pytestmark = pytest.mark.django_db

GRAPHQL = "/v1/graphql/"
TOKEN_URL = "/v1/auth/token"
MISSING_UUID = "3a9c5e1e-0000-4000-8000-0000000000ff"

ENTITY_ONE_OBJECTS = [
    ("entities", "ENTITY", ENTITY_ONE),
    ("counterparts", "COUNTERPART", COUNTERPART_ONE),
    ("payables", "PAYABLE", PAYABLE_ONE),
]
ENTITY_TWO_OBJECTS = [
    ("entities", "ENTITY", ENTITY_TWO),
    ("counterparts", "COUNTERPART", COUNTERPART_TWO),
    ("payables", "PAYABLE", PAYABLE_TWO),
]
# Objects of no entity: a client never reaches them, not even its own user.
UNOWNED_OBJECTS = [
    ("accounts", "ACCOUNT", "A-154321"),
    ("properties", "PROPERTY", "1"),
    ("account_users", "ACCOUNT_USER", SOME_TEST),
    ("account_users", "ACCOUNT_USER", PARTNER_TWO),
    ("account_users", "ACCOUNT_USER", PARTNER),
]
MISSING_OF = {
    "entities": MISSING_UUID,
    "counterparts": MISSING_UUID,
    "payables": MISSING_UUID,
    "accounts": "A-000000",
    "properties": "999",
    "account_users": "nobody@example.com",
}

READ = """
query metadata($type: LinkedObjectType!, $id: String!) {
  metadata(linkedObjectType: $type, identifier: $id) { key value }
}
"""
READ_KEY = """
query metadataForKey($type: LinkedObjectType!, $id: String!, $key: String!) {
  metadataForKey(linkedObjectType: $type, identifier: $id, key: $key) { key value }
}
"""
UPDATE = """
mutation updateMetadata($input: MetadataInput!) {
  updateMetadata(input: $input) { metadata { key value } }
}
"""
DELETE = """
mutation deleteMetadata($input: DeleteMetadataInput!) {
  deleteMetadata(input: $input) { metadata { key value } }
}
"""
ACCOUNT = """
query account($number: String!) { account(accountNumber: $number) { number metadata { key } } }
"""
LOOKUP = """
query lookup($type: LinkedObjectType!, $key: String!) {
  metadataLookup(linkedObjectType: $type, key: $key) {
    edges { node { identifier } }
    pageInfo { hasNextPage }
  }
}
"""
OBTAIN = """
mutation obtainKrakenToken($input: ObtainJSONWebTokenInput!) {
  obtainKrakenToken(input: $input) { token payload refreshToken refreshExpiresIn }
}
"""


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    document_cache.clear()
    cache.clear()


def client_token(client_id: str) -> str:
    """What the `client_credentials` grant issues for a demo client."""
    client = PartnerClient.objects.select_related("user").get(pk=client_id)
    return str(access_token_for(client.user, client=client))


def person_token(email: str) -> str:
    return str(access_token_for(User.objects.get(email=email)))


def rest(token: str, method: str, path: str, document: Any = None, **headers: str) -> Any:
    sent = {"Authorization": f"Bearer {token}", **headers}
    if document is None:
        return Client().generic(method, path, headers=sent)
    return Client().generic(method, path, body(document), content_type=JSON, headers=sent)


def graphql(query: str, variables: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"JWT {token}"} if token else {}
    response = Client().post(
        GRAPHQL,
        json.dumps({"query": query, "variables": variables}),
        content_type=JSON,
        headers=headers,
    )
    assert response.status_code == 200, response.content
    return response.json()


def error_of(answer: dict[str, Any]) -> tuple[str, str]:
    (error,) = answer["errors"]
    return error["extensions"]["errorCode"], error["message"]


def write_input(type_name: str, identifier: str, key: str = "k", value: str = "1") -> dict:
    return {
        "input": {
            "linkedObjectType": type_name,
            "identifier": identifier,
            "key": key,
            "value": value,
        }
    }


@pytest.fixture
def stored(demo: None) -> dict[tuple[str, str], dict[str, Any]]:
    """A document on every entity-owned demo object and on every unowned one, written by the
    support lead (global reach): what an attacker would like to read or overwrite."""
    lead = person_token(SUPPORT_LEAD)
    documents = {}
    for collection, _, identifier in ENTITY_ONE_OBJECTS + ENTITY_TWO_OBJECTS + UNOWNED_OBJECTS:
        document = {"external_id": f"secret-{collection}-{identifier}"}
        response = rest(lead, "PUT", url(collection, identifier), document)
        assert response.status_code == 200, response.content
        documents[(collection, identifier)] = document
    return documents


def snapshot() -> list[tuple[Any, ...]]:
    return list(Metadata.objects.order_by("pk").values_list("object_id", "key", "value"))


# REST ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("collection", "identifier"),
    [(c, i) for c, _, i in ENTITY_ONE_OBJECTS + UNOWNED_OBJECTS],
)
def test_client_two_gets_what_it_does_not_serve_as_missing_through_rest(
    stored: dict, collection: str, identifier: str
) -> None:
    token = client_token(PARTNER_CLIENT_TWO_ID)
    before = snapshot()
    missing = rest(token, "GET", url(collection, MISSING_OF[collection]))
    assert missing.status_code == 404
    for method, document in (("GET", None), ("PUT", {"x": 1}), ("PATCH", {"x": 1})):
        response = rest(token, method, url(collection, identifier), document)
        assert (response.status_code, response.json()) == (404, missing.json()), method
        assert "ETag" not in response
    assert snapshot() == before


@pytest.mark.parametrize(("collection", "identifier"), [(c, i) for c, _, i in ENTITY_TWO_OBJECTS])
def test_client_two_reads_and_writes_what_it_serves_through_rest(
    stored: dict, collection: str, identifier: str
) -> None:
    token = client_token(PARTNER_CLIENT_TWO_ID)
    path = url(collection, identifier)
    got = rest(token, "GET", path)
    assert (got.status_code, got.json()) == (200, {"metadata": stored[(collection, identifier)]})
    put = rest(token, "PUT", path, {"mine": True}, **{"X-Monite-Entity-Id": ENTITY_TWO})
    assert (put.status_code, put.json()) == (200, {"metadata": {"mine": True}})


@pytest.mark.parametrize(
    ("collection", "identifier"), [(c, i) for c, _, i in ENTITY_ONE_OBJECTS + ENTITY_TWO_OBJECTS]
)
def test_client_one_reaches_both_entities_it_serves(
    stored: dict, collection: str, identifier: str
) -> None:
    token = client_token(PARTNER_CLIENT_ID)
    assert rest(token, "GET", url(collection, identifier)).status_code == 200
    assert rest(token, "PATCH", url(collection, identifier), {"c1": 1}).status_code == 200


@pytest.mark.parametrize(("collection", "identifier"), [(c, i) for c, _, i in UNOWNED_OBJECTS])
def test_client_one_does_not_borrow_its_users_global_permission(
    stored: dict, collection: str, identifier: str
) -> None:
    """partner@example.com holds CAN_MUTATE_METADATA; its client's token does not."""
    client = client_token(PARTNER_CLIENT_ID)
    assert rest(client, "GET", url(collection, identifier)).status_code == 404
    assert rest(client, "PUT", url(collection, identifier), {"x": 1}).status_code == 404
    person = person_token(PARTNER)  # the same user logging in as a person keeps its reach
    assert rest(person, "GET", url(collection, identifier)).status_code == 200


def test_a_served_entity_outside_the_entity_header_is_still_missing(stored: dict) -> None:
    token = client_token(PARTNER_CLIENT_ID)
    response = rest(
        token, "GET", url("counterparts", COUNTERPART_TWO), **{"X-Monite-Entity-Id": ENTITY_ONE}
    )
    assert response.status_code == 404


def test_the_entity_header_opens_nothing_the_client_does_not_serve(stored: dict) -> None:
    token = client_token(PARTNER_CLIENT_TWO_ID)
    response = rest(
        token, "GET", url("counterparts", COUNTERPART_ONE), **{"X-Monite-Entity-Id": ENTITY_ONE}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("collection", ["counterparts", "payables", "entities", "accounts"])
def test_client_two_finds_only_what_it_serves_by_rest_lookup(stored: dict, collection: str) -> None:
    token = client_token(PARTNER_CLIENT_TWO_ID)
    response = rest(token, "GET", f"/v1/{collection}/partner_metadata?key=external_id")
    assert response.status_code == 200, response.content
    found = [item["id"] for item in response.json()["data"]]
    expected = [i for c, _, i in ENTITY_TWO_OBJECTS if c == collection]
    assert found == expected
    scoped = rest(
        token,
        "GET",
        f"/v1/{collection}/partner_metadata?key=external_id",
        **{"X-Monite-Entity-Id": ENTITY_ONE},
    )
    assert scoped.status_code == 200
    if collection != "accounts":
        assert scoped.json()["data"] == []


def test_client_one_finds_both_entities_objects_by_lookup(stored: dict) -> None:
    token = client_token(PARTNER_CLIENT_ID)
    response = rest(token, "GET", "/v1/counterparts/partner_metadata?key=external_id")
    assert [item["id"] for item in response.json()["data"]] == [COUNTERPART_ONE, COUNTERPART_TWO]
    accounts = rest(token, "GET", "/v1/accounts/partner_metadata?key=external_id")
    assert accounts.json()["data"] == []


# GraphQL ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_name", "identifier"), [(t, i) for _, t, i in ENTITY_ONE_OBJECTS + UNOWNED_OBJECTS]
)
def test_client_two_gets_what_it_does_not_serve_as_missing_through_graphql(
    stored: dict, type_name: str, identifier: str
) -> None:
    token = client_token(PARTNER_CLIENT_TWO_ID)
    before = snapshot()
    missing_id = MISSING_OF[
        next(c for c, t, _ in UNOWNED_OBJECTS + ENTITY_ONE_OBJECTS if t == type_name)
    ]
    missing = error_of(graphql(READ, {"type": type_name, "id": missing_id}, token))
    assert missing[0] == "KT-CT-4123"
    variables = {"type": type_name, "id": identifier}
    assert error_of(graphql(READ, variables, token)) == missing
    key_answer = graphql(READ_KEY, {**variables, "key": "external_id"}, token)
    assert error_of(key_answer) == missing
    assert error_of(graphql(UPDATE, write_input(type_name, identifier), token)) == missing
    delete = {
        "input": {"linkedObjectType": type_name, "identifier": identifier, "key": "external_id"}
    }
    assert error_of(graphql(DELETE, delete, token)) == missing
    assert snapshot() == before


def test_client_two_cannot_open_an_account_through_graphql(stored: dict) -> None:
    token = client_token(PARTNER_CLIENT_TWO_ID)
    answer = graphql(ACCOUNT, {"number": "A-154321"}, token)
    assert answer["data"]["account"] is None
    assert error_of(answer)[0] == "KT-CT-4123"


@pytest.mark.parametrize(("type_name", "identifier"), [(t, i) for _, t, i in ENTITY_TWO_OBJECTS])
def test_client_two_reads_and_writes_what_it_serves_through_graphql(
    stored: dict, type_name: str, identifier: str
) -> None:
    token = client_token(PARTNER_CLIENT_TWO_ID)
    answer = graphql(UPDATE, write_input(type_name, identifier, "mine", "true"), token)
    assert answer["data"]["updateMetadata"]["metadata"] == {"key": "mine", "value": "true"}
    read = graphql(READ, {"type": type_name, "id": identifier}, token)
    assert {"key": "mine", "value": "true"} in read["data"]["metadata"]


@pytest.mark.parametrize(
    ("type_name", "expected"),
    [
        ("COUNTERPART", [COUNTERPART_TWO]),
        ("PAYABLE", [PAYABLE_TWO]),
        ("ENTITY", [ENTITY_TWO]),
        ("ACCOUNT", []),
        ("ACCOUNT_USER", []),
        ("PROPERTY", []),
    ],
)
def test_client_two_finds_only_what_it_serves_by_graphql_lookup(
    stored: dict, type_name: str, expected: list[str]
) -> None:
    token = client_token(PARTNER_CLIENT_TWO_ID)
    answer = graphql(LOOKUP, {"type": type_name, "key": "external_id"}, token)
    assert "errors" not in answer, answer
    found = [edge["node"]["identifier"] for edge in answer["data"]["metadataLookup"]["edges"]]
    assert found == expected


# Tokens that no longer stand for a client ----------------------------------------------------


def test_a_client_token_of_an_inactive_user_is_an_invalid_token(stored: dict) -> None:
    token = client_token(PARTNER_CLIENT_TWO_ID)
    User.objects.filter(email=PARTNER_TWO).update(is_active=False)
    assert rest(token, "GET", url("counterparts", COUNTERPART_TWO)).status_code == 401
    answer = graphql(READ, {"type": "COUNTERPART", "id": COUNTERPART_TWO}, token)
    assert error_of(answer)[0] == "KT-CT-1111"


def test_a_token_of_a_deleted_client_is_an_invalid_token(stored: dict) -> None:
    token = client_token(PARTNER_CLIENT_TWO_ID)
    PartnerClient.objects.filter(pk=PARTNER_CLIENT_TWO_ID).delete()
    assert rest(token, "GET", url("counterparts", COUNTERPART_TWO)).status_code == 401
    lookup = rest(token, "GET", "/v1/counterparts/partner_metadata?key=external_id")
    assert lookup.status_code == 401
    answer = graphql(READ, {"type": "COUNTERPART", "id": COUNTERPART_TWO}, token)
    assert error_of(answer)[0] == "KT-CT-1111"


def test_a_client_token_with_an_unknown_client_id_is_an_invalid_token(stored: dict) -> None:
    """A signed token naming a client that never existed (or another client's id with this
    user) does not fall back to the user's own reach."""
    user = User.objects.get(email=PARTNER)
    forged = access_token_for(user)
    forged["client_id"] = PARTNER_CLIENT_TWO_ID  # client two acts for partner.two, not partner
    assert rest(str(forged), "GET", url("counterparts", COUNTERPART_TWO)).status_code == 401


# The entity_user grant ----------------------------------------------------------------------


@pytest.fixture
def fast_hashes(demo: None, settings: Any) -> None:
    """The demo's PBKDF2 secrets cost about a second each: re-hashed with a fast hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    for client_id, secret in (
        (PARTNER_CLIENT_ID, PARTNER_CLIENT_SECRET),
        (PARTNER_CLIENT_TWO_ID, PARTNER_CLIENT_TWO_SECRET),
    ):
        client = PartnerClient.objects.get(pk=client_id)
        client.set_secret(secret)
        client.save(update_fields=["secret_hash"])
    for user in User.objects.all():
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])


def grant(client_id: str, secret: str, **extra: str) -> Any:
    data = {"client_id": client_id, "client_secret": secret, **extra}
    return Client().post(TOKEN_URL, json.dumps(data), content_type=JSON)


def test_client_two_gets_no_token_for_entity_ones_user(fast_hashes: None) -> None:
    unknown = grant(
        PARTNER_CLIENT_TWO_ID,
        PARTNER_CLIENT_TWO_SECRET,
        grant_type="entity_user",
        entity_user_id=MISSING_UUID,
    )
    assert unknown.status_code == 401
    other = grant(
        PARTNER_CLIENT_TWO_ID,
        PARTNER_CLIENT_TWO_SECRET,
        grant_type="entity_user",
        entity_user_id=ENTITY_USER_ID,
    )
    assert (other.status_code, other.json()) == (401, unknown.json())
    served = grant(
        PARTNER_CLIENT_ID,
        PARTNER_CLIENT_SECRET,
        grant_type="entity_user",
        entity_user_id=ENTITY_USER_ID,
    )
    assert served.status_code == 200


def test_client_two_gets_tokens_for_its_own_entitys_users_only_while_active(
    fast_hashes: None,
) -> None:
    user = User.objects.create_user("two.user@example.com", "x-password-123")
    Entity.objects.get(pk=ENTITY_TWO).users.add(user)
    answer = grant(
        PARTNER_CLIENT_TWO_ID,
        PARTNER_CLIENT_TWO_SECRET,
        grant_type="entity_user",
        entity_user_id=str(user.pk),
    )
    assert answer.status_code == 200, answer.content
    assert principal_from_token(answer.json()["access_token"]).user_id == user.pk
    User.objects.filter(pk=user.pk).update(is_active=False)
    again = grant(
        PARTNER_CLIENT_TWO_ID,
        PARTNER_CLIENT_TWO_SECRET,
        grant_type="entity_user",
        entity_user_id=str(user.pk),
    )
    assert again.status_code == 401


def test_client_two_credentials_earn_a_token_with_client_twos_reach(fast_hashes: None) -> None:
    answer = grant(
        PARTNER_CLIENT_TWO_ID, PARTNER_CLIENT_TWO_SECRET, grant_type="client_credentials"
    )
    assert answer.status_code == 200, answer.content
    token = answer.json()["access_token"]
    assert rest(token, "GET", url("counterparts", COUNTERPART_TWO)).status_code == 200
    assert rest(token, "GET", url("counterparts", COUNTERPART_ONE)).status_code == 404


def test_a_person_with_the_global_permission_keeps_the_global_reach(fast_hashes: None) -> None:
    """A Kraken-style integration user (no client) logging in with a password."""
    answer = graphql(OBTAIN, {"input": {"email": PARTNER, "password": DEMO_PASSWORD}})
    token = answer["data"]["obtainKrakenToken"]["token"]
    for collection, _, identifier in ENTITY_ONE_OBJECTS + UNOWNED_OBJECTS:
        assert rest(token, "GET", url(collection, identifier)).status_code == 200


def test_a_client_whose_user_gains_a_global_permission_still_has_only_its_reach(
    stored: dict,
) -> None:
    User.objects.get(email=PARTNER_TWO).groups.add(Group.objects.get(name="Partners"))
    token = client_token(PARTNER_CLIENT_TWO_ID)
    assert rest(token, "GET", url("counterparts", COUNTERPART_ONE)).status_code == 404
    assert rest(token, "GET", url("counterparts", COUNTERPART_TWO)).status_code == 200


def test_a_client_whose_user_belongs_to_an_entity_does_not_reach_it(stored: dict) -> None:
    """A client's reach is what it serves, not what its user reaches as a person."""
    Entity.objects.get(pk=ENTITY_ONE).users.add(User.objects.get(email=PARTNER_TWO))
    token = client_token(PARTNER_CLIENT_TWO_ID)
    assert rest(token, "GET", url("counterparts", COUNTERPART_ONE)).status_code == 404
    assert (
        rest(person_token(PARTNER_TWO), "GET", url("counterparts", COUNTERPART_ONE)).status_code
        == 200
    )


# API keys (obtainKrakenToken(input: {APIKey})) ----------------------------------------------


def obtain(key: Any) -> dict[str, Any]:
    return graphql(OBTAIN, {"input": {"APIKey": key}})


def test_the_demo_api_key_earns_a_token_with_client_ones_reach(stored: dict) -> None:
    answer = obtain(DEMO_API_KEY)
    assert "errors" not in answer, answer
    issued = answer["data"]["obtainKrakenToken"]
    assert issued["refreshToken"] is None
    assert issued["refreshExpiresIn"] is None
    principal = principal_from_token(issued["token"])
    assert principal.client_id == uuid.UUID(PARTNER_CLIENT_ID)
    token = issued["token"]
    assert rest(token, "GET", url("counterparts", COUNTERPART_ONE)).status_code == 200
    assert rest(token, "GET", url("accounts", "A-154321")).status_code == 404
    key = APIKey.objects.get(prefix=DEMO_API_KEY[:12])
    assert key.last_used_at is not None


def test_an_api_key_of_client_two_has_client_twos_reach_only(stored: dict) -> None:
    raw = "mgk_attacker-test-key-of-client-two-0123456789abcdef"
    APIKey.objects.create(
        client_id=PARTNER_CLIENT_TWO_ID, prefix=raw[:12], key_hash=api_key_hash(raw)
    )
    token = obtain(raw)["data"]["obtainKrakenToken"]["token"]
    answer = graphql(READ, {"type": "COUNTERPART", "id": COUNTERPART_ONE}, token)
    assert error_of(answer)[0] == "KT-CT-4123"
    answer = graphql(READ, {"type": "COUNTERPART", "id": COUNTERPART_TWO}, token)
    assert "errors" not in answer


def wrong_password_error() -> tuple[str, str]:
    return error_of(graphql(OBTAIN, {"input": {"email": SOME_TEST, "password": "wrong"}}))


@pytest.mark.parametrize(
    "key",
    [
        "demo-api-key-c2",  # right prefix, wrong rest
        "demo-api-key",  # the prefix alone
        "mgk_unknownprefix-and-some-more-characters",
        "",
        "x",
        "a\u0000b" * 5,
        "é" * 40,
        "k" * 10_000,
    ],
)
def test_wrong_or_malformed_api_keys_are_refused_like_a_wrong_password(
    demo: None, key: str
) -> None:
    answer = obtain(key)
    assert answer["data"]["obtainKrakenToken"] is None
    assert error_of(answer) == wrong_password_error()


def test_a_revoked_api_key_is_refused_like_a_wrong_password(demo: None) -> None:
    from django.utils import timezone

    APIKey.objects.filter(prefix=DEMO_API_KEY[:12]).update(revoked_at=timezone.now())
    answer = obtain(DEMO_API_KEY)
    assert answer["data"]["obtainKrakenToken"] is None
    assert error_of(answer) == wrong_password_error()


def test_an_api_key_of_an_inactive_clients_user_is_refused(demo: None) -> None:
    User.objects.filter(email=PARTNER).update(is_active=False)
    assert error_of(obtain(DEMO_API_KEY))[0] == "KT-CT-1138"


def test_an_api_key_with_a_password_or_refresh_token_is_refused(demo: None) -> None:
    answer = graphql(
        OBTAIN, {"input": {"APIKey": DEMO_API_KEY, "email": PARTNER, "password": DEMO_PASSWORD}}
    )
    assert answer["data"]["obtainKrakenToken"] is None
    assert error_of(answer)[0] == "KT-CT-1138"


def test_a_known_and_an_unknown_prefix_cost_the_same_queries(
    demo: None, django_assert_num_queries: Any
) -> None:
    """Refusing a key whose prefix exists does the same work as refusing one whose prefix
    does not: one indexed query and one hash comparison (no timing is asserted)."""
    obtain("warm-up-the-caches")
    with django_assert_num_queries(1):
        assert error_of(obtain("demo-api-key-wrong"))[0] == "KT-CT-1138"
    with django_assert_num_queries(1):
        assert error_of(obtain("nope-api-key-wrong"))[0] == "KT-CT-1138"
    assert APIKey.objects.get(prefix=DEMO_API_KEY[:12]).last_used_at is None


def test_revoking_a_key_ends_the_tokens_it_earned_at_once(stored: dict) -> None:
    from django.utils import timezone

    token = obtain(DEMO_API_KEY)["data"]["obtainKrakenToken"]["token"]
    other = client_token(PARTNER_CLIENT_ID)  # the client's own grant: no key involved
    path = url("counterparts", COUNTERPART_TWO)
    assert rest(token, "GET", path).status_code == 200
    APIKey.objects.filter(prefix=DEMO_API_KEY[:12]).update(revoked_at=timezone.now())
    assert rest(token, "GET", path).status_code == 401
    answer = graphql(READ, {"type": "COUNTERPART", "id": COUNTERPART_TWO}, token)
    assert error_of(answer)[0] == "KT-CT-1111"
    lookup = rest(token, "GET", "/v1/counterparts/partner_metadata?key=external_id")
    assert lookup.status_code == 401
    assert rest(other, "GET", path).status_code == 200


def test_a_token_naming_a_key_of_another_client_or_no_client_is_invalid(stored: dict) -> None:
    key = APIKey.objects.get(prefix=DEMO_API_KEY[:12])  # client one's
    client_two = PartnerClient.objects.select_related("user").get(pk=PARTNER_CLIENT_TWO_ID)
    forged = access_token_for(client_two.user, client=client_two)
    forged["api_key_id"] = str(key.pk)
    assert rest(str(forged), "GET", url("counterparts", COUNTERPART_TWO)).status_code == 401
    no_client = access_token_for(User.objects.get(email=PARTNER))
    no_client["api_key_id"] = str(key.pk)
    assert rest(str(no_client), "GET", url("counterparts", COUNTERPART_TWO)).status_code == 401


def test_a_read_with_a_key_earned_token_still_costs_one_query(
    stored: dict, django_assert_max_num_queries: Any
) -> None:
    token = obtain(DEMO_API_KEY)["data"]["obtainKrakenToken"]["token"]
    path = url("counterparts", COUNTERPART_ONE)
    assert rest(token, "GET", path).status_code == 200  # warms the ContentType cache
    with django_assert_max_num_queries(1):
        assert rest(token, "GET", path).status_code == 200
