"""`metadataLookup` (contract section 9): find objects again by the ids partners stored."""

from __future__ import annotations

import json

import pytest

from tests.conftest import COUNTERPART_ONE, COUNTERPART_TWO, ENTITY_USER, PARTNER, SOME_TEST
from tests.graphql.conftest import UPDATE, extensions, metadata_input

LOOKUP = """
query lookup($type: LinkedObjectType!, $key: String!, $values: [JSONString!], $first: Int,
             $after: String) {
  metadataLookup(linkedObjectType: $type, key: $key, values: $values, first: $first,
                 after: $after) {
    edges { cursor node { identifier metadata { key value } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def store(gql, type_, identifier, key, value):
    body = gql(
        UPDATE,
        metadata_input(
            key=key, value=json.dumps(value), linked_object_type=type_, identifier=identifier
        ),
        as_user=PARTNER,
    ).json()
    assert body["data"]["updateMetadata"], body


def lookup(gql, as_user=PARTNER, **variables):
    return gql(LOOKUP, {"type": "COUNTERPART", "key": "external_id", **variables}, as_user=as_user)


@pytest.fixture
def counterparts(gql):
    store(gql, "COUNTERPART", COUNTERPART_ONE, "external_id", "id_6c8f1262fdbc")
    store(gql, "COUNTERPART", COUNTERPART_ONE, "comment", "")
    store(gql, "COUNTERPART", COUNTERPART_TWO, "external_id", 42)


def identifiers(body):
    return [edge["node"]["identifier"] for edge in body["data"]["metadataLookup"]["edges"]]


def test_lookup_by_key_and_value(gql, counterparts):
    body = lookup(gql, values=['"id_6c8f1262fdbc"']).json()
    assert body["data"]["metadataLookup"]["edges"] == [
        {
            "cursor": body["data"]["metadataLookup"]["pageInfo"]["endCursor"],
            "node": {
                "identifier": COUNTERPART_ONE,
                "metadata": [
                    {"key": "comment", "value": '""'},
                    {"key": "external_id", "value": '"id_6c8f1262fdbc"'},
                ],
            },
        }
    ]
    assert body["data"]["metadataLookup"]["pageInfo"]["hasNextPage"] is False
    assert identifiers(lookup(gql, values=["42", '"nope"']).json()) == [COUNTERPART_TWO]
    assert identifiers(lookup(gql, values=['"42"']).json()) == []
    assert identifiers(lookup(gql).json()) == [COUNTERPART_ONE, COUNTERPART_TWO]


def test_lookup_returns_only_readable_objects(gql, counterparts):
    assert identifiers(lookup(gql, as_user=ENTITY_USER).json()) == [COUNTERPART_ONE]
    assert identifiers(lookup(gql, as_user=SOME_TEST).json()) == []


def test_lookup_pages_with_first_and_after(gql, counterparts):
    first = lookup(gql, first=1).json()["data"]["metadataLookup"]
    assert [e["node"]["identifier"] for e in first["edges"]] == [COUNTERPART_ONE]
    assert first["pageInfo"]["hasNextPage"] is True
    second = lookup(gql, first=1, after=first["pageInfo"]["endCursor"]).json()
    page = second["data"]["metadataLookup"]
    assert [e["node"]["identifier"] for e in page["edges"]] == [COUNTERPART_TWO]
    assert page["pageInfo"] == {"hasNextPage": False, "endCursor": page["edges"][0]["cursor"]}


def test_lookup_sees_a_write_at_once(gql, counterparts):
    store(gql, "COUNTERPART", COUNTERPART_TWO, "external_id", "id_6c8f1262fdbc")
    body = lookup(gql, values=['"id_6c8f1262fdbc"']).json()
    assert identifiers(body) == [COUNTERPART_ONE, COUNTERPART_TWO]


@pytest.mark.parametrize(
    "variables, code, input_path",
    [
        ({"first": 0}, "KT-CT-8413", []),
        ({"first": 101}, "KT-CT-8413", []),
        ({"after": "!!not a cursor!!"}, "KT-CT-8413", []),
        ({"key": ""}, "KT-CT-8411", ["key"]),
        ({"values": ['"ok"', "NaN"]}, "KT-CT-8411", ["values", 1]),
    ],
)
def test_bad_lookup_arguments_are_validation_errors(gql, variables, code, input_path):
    body = lookup(gql, **variables).json()
    assert body["data"] == {"metadataLookup": None}
    ext = extensions(body)
    assert (ext["errorType"], ext["errorCode"]) == ("VALIDATION", code)
    assert ext["validationErrors"][0]["inputPath"] == input_path


def test_lookup_needs_a_token(gql):
    assert extensions(lookup(gql, as_user=None).json())["errorCode"] == "KT-CT-1112"
