"""Fuzzing the live GraphQL door with hypothesis-graphql (bounded: about 50 examples each).

Whatever valid (and, separately, schema-violating) document is sent with a valid token, the
server never answers 5xx and never shows Python or database text.
"""

from __future__ import annotations

import json

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes
from hypothesis_graphql.strategies import mutations

from metadata.graphql.schema import schema
from tests.conftest import DEMO_USERS, SOME_TEST
from tests.graphql.conftest import token_of

pytestmark = pytest.mark.live

LEAKS = ("Traceback", "IntegrityError", "django.", "psycopg", "sqlite3", 'File "')

IDENTIFIERS = st.sampled_from(
    [
        "A-154321",
        "A-12345",
        SOME_TEST,
        "1",
        "2",
        "3a9c5e1e-0000-4000-8000-000000000011",
        "3a9c5e1e-0000-4000-8000-000000000021",
        "",
        "0",
        "not an id",
    ]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3)
    ),
    max_leaves=8,
)
JSON_TEXT = st.one_of(
    JSON_VALUES.map(json.dumps),
    st.sampled_from(["NaN", "Infinity", "{", "", "[" * 40, '"\\u0000"']),
    st.text(max_size=20),
)
CUSTOM_SCALARS = {"JSONString": JSON_TEXT.map(nodes.String)}
SETTINGS = settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def check(response: requests.Response) -> None:
    assert response.status_code < 500, response.text
    for leak in LEAKS:
        assert leak not in response.text, response.text
    body = response.json()
    assert "data" in body or "errors" in body


@pytest.fixture
def session(kraken) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"JWT {token_of('partner@example.com')}"
    return session


# obtainKrakenToken hashes a password per call (about 0.3 s by design); it has its own tests.
FUZZED_FIELDS = [
    "metadata",
    "metadataForKey",
    "account",
    "metadataLookup",
    "updateMetadata",
    "createMetadata",
    "deleteMetadata",
]


def test_fuzz_valid_documents(kraken, session):
    url = f"{kraken.url}/v1/graphql/"

    @SETTINGS
    @given(from_schema(schema.graphql_schema, fields=FUZZED_FIELDS, custom_scalars=CUSTOM_SCALARS))
    def run(query: str) -> None:
        check(session.post(url, json={"query": query}, timeout=30))

    run()


def test_fuzz_writes_with_known_identifiers(kraken, session):
    """Random values and keys aimed at real objects, as each demo user."""
    url = f"{kraken.url}/v1/graphql/"
    tokens = {email: token_of(email) for email in DEMO_USERS}
    update = (
        "mutation ($input: MetadataInput!) { updateMetadata(input: $input) "
        "{ metadata { key value digest } } }"
    )

    @SETTINGS
    @given(
        email=st.sampled_from(DEMO_USERS),
        kind=st.sampled_from(["ACCOUNT", "ACCOUNT_USER", "PROPERTY", "COUNTERPART", "PAYABLE"]),
        identifier=IDENTIFIERS,
        key=st.text(max_size=120),
        value=JSON_TEXT,
    )
    def run(email: str, kind: str, identifier: str, key: str, value: str) -> None:
        variables = {
            "input": {
                "linkedObjectType": kind,
                "identifier": identifier,
                "key": key,
                "value": value,
            }
        }
        response = requests.post(
            url,
            json={"query": update, "variables": variables},
            headers={"Authorization": f"JWT {tokens[email]}"},
            timeout=30,
        )
        check(response)
        assert response.status_code == 200

    run()


def test_fuzz_schema_violating_documents(kraken, session):
    url = f"{kraken.url}/v1/graphql/"

    @settings(SETTINGS, max_examples=30)
    @given(mutations(schema.graphql_schema, custom_scalars=CUSTOM_SCALARS, mode=Mode.NEGATIVE))
    def run(query: str) -> None:
        check(session.post(url, json={"query": query}, timeout=30))

    run()
