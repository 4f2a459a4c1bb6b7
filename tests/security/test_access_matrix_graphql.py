"""Contract sections 3 and 11 through the GraphQL door: every demo user and partner client x
every demo object.

Generated from the registry (tests.access), like the REST matrix, so a new linkable type is
covered as soon as it has demo objects. Writes send an empty key: an allowed write then
stops at the rules (KT-CT-8411) and nothing is stored, while a refused one never gets there.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.test import Client

from metadata.models import Metadata
from tests.access import NONE, READ, WRITE, access_matrix

READ_QUERY = """
query metadata($type: LinkedObjectType!, $id: String!) {
  metadata(linkedObjectType: $type, identifier: $id) { key value }
}
"""
WRITE_QUERY = """
mutation updateMetadata($input: MetadataInput!) {
  updateMetadata(input: $input) { metadata { key value } }
}
"""
EXPECTED = {
    WRITE: (None, "KT-CT-8411"),
    READ: (None, "KT-CT-4124"),
    NONE: ("KT-CT-4123", "KT-CT-4123"),
}


def code(client: Client, token: str, query: str, variables: dict) -> str | None:
    response = client.post(
        "/v1/graphql/",
        json.dumps({"query": query, "variables": variables}),
        content_type="application/json",
        headers={"Authorization": f"JWT {token}"},
    )
    assert response.status_code == 200
    errors = response.json().get("errors")
    return errors[0]["extensions"]["errorCode"] if errors else None


def test_the_access_matrix_through_graphql(token_for: Callable[[str], str]) -> None:
    client = Client()
    tokens: dict[str, str] = {}
    checked = 0
    for email, linkable, identifier, access in access_matrix():
        token = tokens.setdefault(email, token_for(email))
        read = code(client, token, READ_QUERY, {"type": linkable.name, "id": identifier})
        write = code(
            client,
            token,
            WRITE_QUERY,
            {
                "input": {
                    "linkedObjectType": linkable.name,
                    "identifier": identifier,
                    "key": "",
                    "value": "1",
                }
            },
        )
        assert (read, write) == EXPECTED[access], (email, linkable.name, identifier, access)
        checked += 1
    assert checked == 10 * 18  # 7 users and 3 clients x 18 objects (8 of them users)
    assert Metadata.objects.count() == 0
