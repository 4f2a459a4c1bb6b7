"""The checked-in SDL is the live schema; the schema is the contract's (section 6)."""

from __future__ import annotations

from pathlib import Path

from graphql import print_schema

from metadata.graphql.schema import schema
from metadata.linkables import all_linkables

SDL = Path(__file__).resolve().parents[2] / "docs" / "schema.graphql"


def test_checked_in_sdl_matches_the_live_schema():
    """Regenerate with `make schema` (manage.py graphql_schema ... --out docs/schema.graphql)."""
    assert SDL.read_text(encoding="utf-8").strip() == print_schema(schema.graphql_schema).strip()


def test_linked_object_type_is_generated_from_the_registry():
    enum = schema.graphql_schema.get_type("LinkedObjectType")
    assert list(enum.values) == [linkable.name for linkable in all_linkables()]
    assert list(enum.values) == [
        "ACCOUNT",
        "ACCOUNT_USER",
        "PROPERTY",
        "ENTITY",
        "COUNTERPART",
        "PAYABLE",
    ]


def test_fields_and_arguments_are_the_contracts():
    gql = schema.graphql_schema
    query, mutation = gql.query_type.fields, gql.mutation_type.fields
    assert str(query["metadata"].type) == "[Metadata]"
    assert {k: str(a.type) for k, a in query["metadata"].args.items()} == {
        "linkedObjectType": "LinkedObjectType!",
        "identifier": "String!",
    }
    assert str(query["metadataForKey"].type) == "Metadata"
    assert set(query["metadataForKey"].args) == {"linkedObjectType", "identifier", "key"}
    assert {k: str(a.type) for k, a in query["account"].args.items()} == {
        "accountNumber": "String!"
    }
    assert {name: str(field.type) for name, field in mutation.items()} == {
        "updateMetadata": "UpdateMetadata",
        "updateMetadataBatch": "UpdateMetadataBatch",
        "createMetadata": "CreateMetadata",
        "deleteMetadata": "DeleteMetadata",
        "obtainKrakenToken": "ObtainKrakenJSONWebToken",
    }
    # Contract section 12: bulk sync.
    assert {k: str(a.type) for k, a in mutation["updateMetadataBatch"].args.items()} == {
        "input": "[MetadataInput!]!"
    }
    assert str(gql.get_type("UpdateMetadataBatch").fields["metadata"].type) == "[Metadata!]!"
    assert str(query["metadataBatch"].type) == "[MetadataDocument!]!"
    assert {k: str(a.type) for k, a in query["metadataBatch"].args.items()} == {
        "linkedObjectType": "LinkedObjectType!",
        "identifiers": "[String!]!",
    }
    assert {k: str(f.type) for k, f in gql.get_type("MetadataDocument").fields.items()} == {
        "identifier": "String!",
        "metadata": "[Metadata!]!",
    }
    assert {k: str(f.type) for k, f in gql.get_type("MetadataInput").fields.items()} == {
        "linkedObjectType": "LinkedObjectType!",
        "identifier": "String!",
        "key": "String!",
        "value": "JSONString!",
        "compareDigest": "String",
    }
    assert {k: str(f.type) for k, f in gql.get_type("Metadata").fields.items()} == {
        "key": "String!",
        "value": "JSONString",
        "digest": "String",
    }
    assert {k: str(f.type) for k, f in gql.get_type("Account").fields.items()} == {
        "number": "String!",
        "metadata": "[Metadata]",
    }
    assert set(gql.get_type("ObtainKrakenJSONWebToken").fields) == {
        "token",
        "payload",
        "refreshToken",
        "refreshExpiresIn",
    }
    assert set(gql.get_type("ObtainJSONWebTokenInput").fields) == {
        "email",
        "password",
        "refreshToken",
        "APIKey",
    }


def test_every_type_field_and_argument_is_described():
    missing = []
    for name, type_ in schema.graphql_schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Boolean", "Float", "ID"}:
            continue
        if not type_.description:
            missing.append(name)
        for field_name, field in getattr(type_, "fields", {}).items():
            if not field.description:
                missing.append(f"{name}.{field_name}")
            for arg_name, arg in getattr(field, "args", {}).items():
                if not arg.description:
                    missing.append(f"{name}.{field_name}({arg_name})")
        for value_name, value in getattr(type_, "values", {}).items():
            if not value.description:
                missing.append(f"{name}.{value_name}")
    assert missing == []
