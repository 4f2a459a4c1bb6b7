"""Request limits (contract section 6): depth, fields, tokens; and the document cache."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from graphql import get_introspection_query

from metadata.graphql import documents
from metadata.graphql.limits import MAX_DEPTH, MAX_FIELDS, MAX_TOKENS
from metadata.graphql.view import document_cache
from tests.graphql.conftest import READ, UPDATE, metadata_input


def nested_introspection(depth: int) -> str:
    """`__schema { types { fields { type { ofType ... { name }` with `depth` levels of fields."""
    assert depth >= 5
    opening = "{ __schema { types { fields { type { " + "ofType { " * (depth - 5)
    return opening + "name" + " }" * depth


def refused(response, fragment: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body.get("data") is None
    assert any(fragment in error["message"] for error in body["errors"]), body


@pytest.mark.parametrize(
    "options",
    [
        {},
        {
            "descriptions": True,
            "specified_by_url": True,
            "directive_is_repeatable": True,
            "schema_description": True,
            "input_value_deprecation": True,
        },
    ],
)
def test_graphiqls_standard_introspection_query_passes(gql, options):
    response = gql(get_introspection_query(**options), as_user=None)
    assert response.status_code == 200
    types = {t["name"] for t in response.json()["data"]["__schema"]["types"]}
    assert {"LinkedObjectType", "MetadataInput", "JSONString", "Metadata"} <= types


def test_depth_limit_counts_introspection_fields(gql):
    assert gql(nested_introspection(MAX_DEPTH), as_user=None).status_code == 200
    refused(gql(nested_introspection(MAX_DEPTH + 1), as_user=None), "levels deep")
    refused(gql(nested_introspection(30), as_user=None), "levels deep")


def test_depth_hidden_in_fragments_is_counted(gql):
    query = (
        "{ __schema { types { fields { type { ...Deep } } } } }\n"
        "fragment Deep on __Type { " + "ofType { " * 12 + "name" + " }" * 12 + " }"
    )
    refused(gql(query, as_user=None), "levels deep")


def aliases(count: int) -> str:
    return "{ " + " ".join(f"a{index}: __typename" for index in range(count)) + " }"


def test_field_limit_counts_aliases(gql):
    assert gql(aliases(MAX_FIELDS), as_user=None).status_code == 200
    refused(gql(aliases(MAX_FIELDS + 1), as_user=None), f"more than {MAX_FIELDS} fields")


def test_field_limit_counts_each_spread_of_a_fragment(gql):
    fields = " ".join(f"a{index}: __typename" for index in range(260))
    query = "{ ...F ...F }\nfragment F on Query { " + fields + " }"
    assert gql("{ ...F }\nfragment F on Query { " + fields + " }", as_user=None).status_code == 200
    refused(gql(query, as_user=None), f"more than {MAX_FIELDS} fields")


def test_fragment_bombs_are_refused_quickly(gql):
    chain = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(24)]
    query = "{ ...F0 }\n" + "\n".join(chain) + "\nfragment F24 on Query { __typename }"
    started = time.monotonic()
    response = gql(query, as_user=None)
    assert time.monotonic() - started < 5
    assert response.status_code == 400


def test_token_limit(gql):
    padding = "#\n" * (MAX_TOKENS - 100)
    assert gql(padding + "{ __typename }", as_user=None).status_code == 200
    refused(gql("#\n" * MAX_TOKENS + "{ __typename }", as_user=None), f"{MAX_TOKENS} tokens")
    refused(gql("{" + " __typename" * (MAX_TOKENS + 1) + " }", as_user=None), "tokens")


def test_standard_rules_still_apply(gql):
    """Stack note 1: custom rules are added to graphql-core's, not put in their place."""
    refused(gql("{ nope }", as_user=None), "Cannot query field 'nope'")
    refused(gql("query ($x: String) { __typename }", as_user=None), "never used")


def test_a_second_execution_does_not_parse_or_validate_again(gql):
    with (
        mock.patch.object(documents, "parse", wraps=documents.parse) as parse,
        mock.patch.object(documents, "validate", wraps=documents.validate) as validate,
    ):
        for _ in range(3):
            body = gql(UPDATE, metadata_input()).json()
            assert body["data"]["updateMetadata"]["metadata"]
        assert parse.call_count == 1
        assert validate.call_count == 1
        gql(READ, {"type": "ACCOUNT", "id": "A-154321"})
        assert parse.call_count == 2
    assert document_cache.hits == 2


def test_invalid_documents_are_cached_too_but_not_syntax_errors_or_huge_texts(gql):
    with mock.patch.object(documents, "parse", wraps=documents.parse) as parse:
        for _ in range(2):
            gql("{ nope }", as_user=None)
        assert parse.call_count == 1
        for _ in range(2):
            gql("{ broken", as_user=None)
        assert parse.call_count == 3
        huge = "{ __typename } # " + "x" * documents.MAX_CACHED_QUERY_CHARS
        for _ in range(2):
            assert gql(huge, as_user=None).status_code == 200
        assert parse.call_count == 5


def test_the_cache_is_bounded():
    cache = documents.DocumentCache(document_cache.schema, document_cache.rules, size=3)
    for index in range(10):
        cache.prepare(f"{{ a{index}: __typename }}")
    assert len(cache._entries) == 3
    cache.prepare("{ a9: __typename }")
    assert cache.hits == 1
