"""Reads and writes through the GraphQL door: values, documents, digests and the audit."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from metadata import rules, selectors, services
from metadata.linkables import by_name
from metadata.models import Door, Metadata, MetadataChange, User
from metadata.permissions import Action
from metadata.principals import Principal
from tests.conftest import (
    COUNTERPART_ONE,
    COUNTERPART_TWO,
    ENTITY_ONE,
    ENTITY_USER,
    PARTNER,
    PAYABLE_ONE,
    SOME_TEST,
    SUPPORT,
)
from tests.graphql.conftest import (
    CREATE,
    DELETE,
    READ,
    READ_KEY,
    UPDATE,
    extensions,
    metadata_input,
    post,
)

pytestmark = pytest.mark.usefixtures("demo")


def partner_target(linked_object_type="ACCOUNT", identifier="A-154321"):
    return selectors.open_target(
        principal=Principal.for_user(User.objects.get(email=PARTNER)),
        linkable=by_name(linked_object_type),
        identifier=identifier,
        action=Action.WRITE,
    )


def stored_document(linked_object_type="ACCOUNT", identifier="A-154321"):
    return selectors.get_document(target=partner_target(linked_object_type, identifier))


def seed(patch, linked_object_type="ACCOUNT", identifier="A-154321"):
    """Keys written straight through the core, to set a scene in one call."""
    services.merge_document(
        target=partner_target(linked_object_type, identifier),
        patch=patch,
        context=services.WriteContext(actor_id=None, door=Door.ADMIN),
    )


@pytest.mark.parametrize("scheme", ["JWT", "Bearer", "bearer", ""])
def test_jwt_bearer_and_bare_tokens_are_accepted(gql, scheme):
    body = gql(UPDATE, metadata_input(), scheme=scheme).json()
    assert body["data"]["updateMetadata"]["metadata"]["key"] == "some_unique_key"


def test_update_creates_then_updates_one_key(gql):
    first = gql(UPDATE, metadata_input(value='{"a": 1}')).json()["data"]["updateMetadata"]
    second = gql(UPDATE, metadata_input(value="[1, 2]")).json()["data"]["updateMetadata"]
    assert first["metadata"]["value"] == '{"a": 1}'
    assert second["metadata"]["value"] == "[1, 2]"
    assert stored_document() == {"some_unique_key": [1, 2]}
    assert [c.action for c in MetadataChange.objects.order_by("id")] == ["created", "updated"]


@pytest.mark.parametrize(
    "text, stored, echoed",
    [
        ("null", None, "null"),
        ('"hello"', "hello", '"hello"'),
        ("42", 42, "42"),
        ("1.5", 1.5, "1.5"),
        ("true", True, "true"),
        ('  {"b":1,"a":[]}  ', {"b": 1, "a": []}, '{"b": 1, "a": []}'),
        ('"caf\\u00e9 \\ud83d\\udc36"', "café 🐶", '"caf\\u00e9 \\ud83d\\udc36"'),
    ],
)
def test_values_are_json_text_in_and_out(gql, text, stored, echoed):
    metadata = gql(UPDATE, metadata_input(value=text)).json()["data"]["updateMetadata"]["metadata"]
    assert metadata["value"] == echoed
    assert Metadata.objects.get().value == stored
    read = gql(READ_KEY, {"type": "ACCOUNT", "id": "A-154321", "key": "some_unique_key"}).json()
    assert json.loads(read["data"]["metadataForKey"]["value"]) == stored


def test_a_stored_null_reads_back_as_the_text_null(gql):
    gql(UPDATE, metadata_input(value="null"))
    body = gql(READ, {"type": "ACCOUNT", "id": "A-154321"}).json()
    assert body == {
        "data": {
            "metadata": [
                {"key": "some_unique_key", "value": "null", "digest": rules.value_digest(None)}
            ]
        }
    }


INLINE = """
mutation {
  updateMetadata(input: {linkedObjectType: ACCOUNT, identifier: "A-154321", key: "k",
                         value: %s}) { metadata { key value } }
}
"""


@pytest.mark.parametrize(
    "text",
    ["NaN", "Infinity", "-Infinity", "{", "{'a': 1}", "", "[1,]", '"\\ud800"', '{"\\udc00": 1}'],
)
@pytest.mark.parametrize("how", ["variables", "inline"])
def test_a_value_that_is_not_strict_json_is_kt_ct_8411_not_http_400(gql, text, how):
    if how == "variables":
        response = gql(UPDATE, metadata_input(key="k", value=text))
    else:
        response = gql(INLINE % json.dumps(text))
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"updateMetadata": None}
    ext = extensions(body)
    assert (ext["errorType"], ext["errorCode"]) == ("VALIDATION", "KT-CT-8411")
    [validation] = ext["validationErrors"]
    assert validation["inputPath"] == ["input", "value"]
    assert "not valid JSON" in validation["message"]
    assert not Metadata.objects.exists()


def test_a_value_that_is_not_a_string_is_a_graphql_error(gql):
    """`value` must be a *string* of JSON text, as in Kraken; graphql-core refuses the rest."""
    response = gql(UPDATE, metadata_input(value={"pet_type": "dog"}))
    assert response.status_code == 400
    assert "JSONString" in response.json()["errors"][0]["message"]
    inline = gql(INLINE % "42")
    assert inline.status_code == 400
    assert "JSONString" in inline.json()["errors"][0]["message"]
    assert not Metadata.objects.exists()


def test_the_size_rule_counts_the_whole_document(gql):
    seed({f"key{index}": "x" * 200 for index in range(8)})
    response = gql(UPDATE, metadata_input(key="key8", value=json.dumps("x" * 200)))
    assert response.json()["data"]["updateMetadata"], response.json()
    assert rules.document_size(stored_document()) < 2000
    # 200 bytes alone are fine; added to the 9 keys already there they are not.
    response = gql(UPDATE, metadata_input(key="one_more", value=json.dumps("y" * 200)))
    ext = extensions(response.json())
    assert ext["errorCode"] == "KT-CT-8411"
    assert "limit is 2000" in ext["validationErrors"][0]["message"]
    assert ext["validationErrors"][0]["inputPath"] == ["input", "value"]
    assert "one_more" not in stored_document()
    other = gql(
        UPDATE, metadata_input(key="one_more", value=json.dumps("y" * 200), identifier="A-12345")
    )
    assert other.json()["data"]["updateMetadata"]["metadata"]["key"] == "one_more"


def test_updating_a_key_in_a_full_document_counts_the_new_value_not_both(gql):
    seed({f"key{index}": "x" * 200 for index in range(9)})
    response = gql(UPDATE, metadata_input(key="key0", value=json.dumps("z" * 200)))
    assert response.json()["data"]["updateMetadata"]["metadata"]["key"] == "key0"


def test_create_metadata_creates_only(gql):
    body = gql(CREATE, metadata_input(key="fresh", value='{"n": 1}')).json()
    assert body == {"data": {"createMetadata": {"metadata": {"key": "fresh", "value": '{"n": 1}'}}}}


def test_delete_metadata_returns_the_removed_pair_then_null(gql):
    gql(UPDATE, metadata_input(key="gone", value='{"n": 1}'))
    delete = {"input": {"linkedObjectType": "ACCOUNT", "identifier": "A-154321", "key": "gone"}}
    first = gql(DELETE, delete).json()
    assert first == {"data": {"deleteMetadata": {"metadata": {"key": "gone", "value": '{"n": 1}'}}}}
    assert gql(DELETE, delete).json() == {"data": {"deleteMetadata": {"metadata": None}}}
    assert stored_document() == {}
    assert [c.action for c in MetadataChange.objects.order_by("id")] == ["created", "deleted"]


def test_delete_needs_write_access(gql):
    gql(UPDATE, metadata_input(key="kept"))
    delete = {"input": {"linkedObjectType": "ACCOUNT", "identifier": "A-154321", "key": "kept"}}
    assert extensions(gql(DELETE, delete, as_user=SUPPORT).json())["errorCode"] == "KT-CT-4124"
    assert extensions(gql(DELETE, delete, as_user=None).json())["errorCode"] == "KT-CT-1112"
    assert "kept" in stored_document()


def test_metadata_query_lists_the_document_by_key(gql):
    for key in ("b", "a", "c"):
        gql(UPDATE, metadata_input(key=key, value=json.dumps(key)))
    body = gql(READ, {"type": "ACCOUNT", "id": "A-154321"}, as_user=SOME_TEST).json()
    assert [(m["key"], m["value"]) for m in body["data"]["metadata"]] == [
        ("a", '"a"'),
        ("b", '"b"'),
        ("c", '"c"'),
    ]


def test_account_query(gql):
    gql(UPDATE, metadata_input(key="k", value="1"))
    query = (
        """query ($n: String!) { account(accountNumber: $n) { number metadata { key value } } }"""
    )
    body = gql(query, {"n": "A-154321"}, as_user=SOME_TEST).json()
    assert body == {
        "data": {"account": {"number": "A-154321", "metadata": [{"key": "k", "value": "1"}]}}
    }
    other = gql(query, {"n": "A-12345"}, as_user=SOME_TEST).json()
    assert other["data"] == {"account": None}
    assert extensions(other)["errorCode"] == "KT-CT-4123"


ACCESS = [
    # (user, type, identifier, may read, may write)
    (SOME_TEST, "ACCOUNT", "A-154321", True, True),
    (SOME_TEST, "ACCOUNT", "A-12345", False, False),
    (SOME_TEST, "ACCOUNT_USER", SOME_TEST, True, True),
    (SOME_TEST, "ACCOUNT_USER", PARTNER, False, False),
    (SOME_TEST, "PROPERTY", "1", True, True),
    (SOME_TEST, "PROPERTY", "2", False, False),
    (ENTITY_USER, "ENTITY", ENTITY_ONE, True, True),
    (ENTITY_USER, "COUNTERPART", COUNTERPART_ONE, True, True),
    (ENTITY_USER, "COUNTERPART", COUNTERPART_TWO, False, False),
    (ENTITY_USER, "PAYABLE", PAYABLE_ONE, True, True),
    (ENTITY_USER, "ACCOUNT", "A-154321", False, False),
    (PARTNER, "PAYABLE", PAYABLE_ONE, True, True),
    (PARTNER, "ACCOUNT_USER", SOME_TEST, True, True),
    (SUPPORT, "COUNTERPART", COUNTERPART_TWO, True, False),
    (SUPPORT, "PROPERTY", "2", True, False),
]


@pytest.mark.parametrize("user, type_, identifier, may_read, may_write", ACCESS)
def test_access_matrix(gql, user, type_, identifier, may_read, may_write):
    read = gql(READ, {"type": type_, "id": identifier}, as_user=user).json()
    if may_read:
        assert read == {"data": {"metadata": []}}
    else:
        assert extensions(read)["errorCode"] == "KT-CT-4123"
    write = gql(
        UPDATE,
        metadata_input(linked_object_type=type_, identifier=identifier, value='"v"'),
        as_user=user,
    ).json()
    if may_write:
        assert write["data"]["updateMetadata"]["metadata"]["value"] == '"v"'
    else:
        expected = "KT-CT-4124" if may_read else "KT-CT-4123"
        assert extensions(write)["errorCode"] == expected


def test_compare_digest_writes_only_over_the_value_read(gql):
    first = gql(UPDATE, metadata_input(value='"one"')).json()
    digest = first["data"]["updateMetadata"]["metadata"]["digest"]
    assert digest == rules.value_digest("one")

    second = gql(UPDATE, metadata_input(value='"two"', compareDigest=digest)).json()
    assert second["data"]["updateMetadata"]["metadata"]["value"] == '"two"'

    stale = gql(UPDATE, metadata_input(value='"three"', compareDigest=digest)).json()
    ext = extensions(stale)
    assert (ext["errorType"], ext["errorCode"]) == ("VALIDATION", "KT-CT-8412")
    assert ext["validationErrors"][0]["inputPath"] == ["input", "compareDigest"]
    assert stored_document() == {"some_unique_key": "two"}


def test_compare_digest_of_a_missing_key_is_stale(gql):
    body = gql(UPDATE, metadata_input(compareDigest=rules.value_digest(None))).json()
    assert extensions(body)["errorCode"] == "KT-CT-8412"
    assert stored_document() == {}


def test_writes_are_audited_with_actor_door_and_request_id(gql):
    gql(UPDATE, metadata_input(value="1"), as_user=SOME_TEST, HTTP_X_REQUEST_ID="req-42")
    change = MetadataChange.objects.get()
    assert change.door == Door.GRAPHQL
    assert change.actor.email == SOME_TEST
    assert change.request_id == "req-42"
    assert Metadata.objects.get().updated_by.email == SOME_TEST


def test_several_fields_in_one_request_answer_independently(gql):
    query = """
    mutation two($good: MetadataInput!, $bad: MetadataInput!) {
      good: updateMetadata(input: $good) { metadata { key } }
      bad: updateMetadata(input: $bad) { metadata { key } }
    }
    """
    variables = {
        "good": metadata_input(key="ok")["input"],
        "bad": metadata_input(key="nope", value="{")["input"],
    }
    response = gql(query, variables)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"good": {"metadata": {"key": "ok"}}, "bad": None}
    assert body["errors"][0]["path"] == ["bad"]
    assert stored_document() == {"ok": {"pet_type": "dog", "name": "fang"}}


def test_update_costs_the_same_queries_for_1_and_40_existing_keys(token_for):
    client = Client()
    authorization = f"JWT {token_for(PARTNER)}"

    def update(key):
        body = post(client, UPDATE, metadata_input(key=key, value="1"), authorization=authorization)
        assert body.json()["data"]["updateMetadata"], body.json()

    def queries_for_one_update(key):
        with CaptureQueriesContext(connection) as captured:
            update(key)
        return [query["sql"] for query in captured.captured_queries]

    update("warm-up")  # content types and other per-process caches
    one = queries_for_one_update("k0")
    seed({f"k{index:02}": 1 for index in range(1, 40)})
    assert len(stored_document()) == 41
    forty = queries_for_one_update("k_new")
    assert len(one) == len(forty)
    # The object with the caller's access, the lock, the read, then the rows, audit and event:
    # on PostgreSQL one statement (after its plan setting), elsewhere one each (savepoints
    # aside); never one per key.
    statements = [sql for sql in one if "SAVEPOINT" not in sql and "SET LOCAL" not in sql]
    assert len(statements) == (4 if connection.vendor == "postgresql" else 6), statements


def test_reading_a_document_costs_one_query(token_for):
    """The object, the caller's access and its rows come back in one statement."""
    client = Client()
    authorization = f"JWT {token_for(SOME_TEST)}"
    services.replace_document(  # a null value is SQL NULL in its row
        target=partner_target(),
        document={"b": [1, 2], "a": None, "c": {"x": "é"}},
        context=services.WriteContext(actor_id=None, door=Door.ADMIN),
    )
    variables = {"type": "ACCOUNT", "id": "A-154321"}
    post(client, READ, variables, authorization=authorization)  # per-process caches
    with CaptureQueriesContext(connection) as captured:
        body = post(client, READ, variables, authorization=authorization).json()
    assert len(captured.captured_queries) == 1
    entries = [(entry["key"], json.loads(entry["value"])) for entry in body["data"]["metadata"]]
    assert entries == [("a", None), ("b", [1, 2]), ("c", {"x": "é"})]
