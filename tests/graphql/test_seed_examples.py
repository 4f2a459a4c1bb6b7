"""The Kraken document's examples (seeds/000), verbatim but for the URL and the token.

Run over real HTTP against gunicorn, as the document's Python example runs them.
"""

from __future__ import annotations

import json
import pprint

import pytest
import requests

from metadata.models import Metadata
from tests.graphql.conftest import token_of

# The document's Python example, character for character (its indentation included).
MUTATION = """
mutation updateMetadata($input: MetadataInput!) {
     updateMetadata(input: $input) {
         metadata {
            key
            value
         }
     }
}
"""

# The same mutation as shown in the document's first code box (closing brace indented).
MUTATION_BOX = """mutation updateMetadata($input: MetadataInput!) {
     updateMetadata(input: $input) {
         metadata {
            key
            value
         }
     }
 }"""

EXPECTED = {
    "data": {
        "updateMetadata": {
            "metadata": {
                "key": "some_unique_key",
                "value": '{"pet_type": "dog", "name": "fang"}',
            }
        }
    }
}

pytestmark = pytest.mark.live


def kraken_session(token: str) -> requests.Session:
    session = requests.Session()
    session.headers.update({"Authorization": f"JWT {token}"})
    return session


@pytest.mark.parametrize(
    ("linked_object_type", "identifier"),
    [("ACCOUNT", "A-154321"), ("ACCOUNT_USER", "some.test@email.com")],
)
def test_seed_python_example_works_as_written(kraken, linked_object_type, identifier):
    api_url = f"{kraken.url}/v1/graphql/"
    variables = {
        "input": {
            "linkedObjectType": linked_object_type,
            "identifier": identifier,
            "key": "some_unique_key",
            "value": json.dumps({"pet_type": "dog", "name": "fang"}),
        }
    }
    session = kraken_session(token_of("some.test@email.com"))
    response = session.post(url=api_url, json={"query": MUTATION, "variables": variables})
    pprint.pformat(response.json())  # the example prints it; it must be plain JSON

    assert response.status_code == 200
    assert response.json() == EXPECTED
    stored = Metadata.objects.get(key="some_unique_key")
    assert stored.value == {"pet_type": "dog", "name": "fang"}


def test_seed_first_box_for_account_a_12345(kraken):
    """The 'Input variables for ACCOUNT' box, sent by that account's user."""
    variables = {
        "input": {
            "linkedObjectType": "ACCOUNT",
            "identifier": "A-12345",
            "key": "SOME_CONSTANT_KEY",
            "value": '{"some_key": "some_value", "another_key": "another_value"}',
        }
    }
    session = kraken_session(token_of("some_cool_account_user_email@example.com"))
    response = session.post(
        f"{kraken.url}/v1/graphql/", json={"query": MUTATION_BOX, "variables": variables}
    )
    assert response.status_code == 200
    assert response.json() == {
        "data": {
            "updateMetadata": {
                "metadata": {
                    "key": "SOME_CONSTANT_KEY",
                    "value": '{"some_key": "some_value", "another_key": "another_value"}',
                }
            }
        }
    }


def test_seed_account_number_typo_is_a_graphql_error_not_a_5xx(kraken):
    """The document's ACCOUNT_NUMBER is not a LinkedObjectType: graphql-core says so (400)."""
    variables = {
        "input": {
            "linkedObjectType": "ACCOUNT_NUMBER",
            "identifier": "some_cool_account_user_email@example.com",
            "key": "SOME_CONSTANT_KEY",
            "value": '{"some_key": "some_value", "another_key": "another_value"}',
        }
    }
    session = kraken_session(token_of("partner@example.com"))
    response = session.post(
        f"{kraken.url}/v1/graphql/", json={"query": MUTATION, "variables": variables}
    )
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body or body["data"] is None
    assert "ACCOUNT_NUMBER" in body["errors"][0]["message"]
    assert "LinkedObjectType" in body["errors"][0]["message"]
    assert not Metadata.objects.exists()


def test_seed_example_value_reads_back_from_any_user_with_access(kraken):
    session = kraken_session(token_of("some.test@email.com"))
    url = f"{kraken.url}/v1/graphql/"
    variables = {
        "input": {
            "linkedObjectType": "ACCOUNT",
            "identifier": "A-154321",
            "key": "some_unique_key",
            "value": json.dumps({"pet_type": "dog", "name": "fang"}),
        }
    }
    assert session.post(url, json={"query": MUTATION, "variables": variables}).ok
    support = kraken_session(token_of("support@example.com"))
    query = '{ account(accountNumber: "A-154321") { number metadata { key value } } }'
    body = support.post(url, json={"query": query}).json()
    account = body["data"]["account"]
    assert account["number"] == "A-154321"
    [entry] = account["metadata"]
    assert entry["key"] == "some_unique_key"
    # Stored parsed: PostgreSQL's jsonb may reorder the keys, the value is the same.
    assert json.loads(entry["value"]) == {"pet_type": "dog", "name": "fang"}
