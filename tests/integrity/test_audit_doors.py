"""Every door leaves an audit entry with its name, the actor and the request id (issue 5)."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.test import Client

from metadata.models import MetadataChange, User
from tests.conftest import COUNTERPART_ONE, ENTITY_USER, PARTNER, SOME_TEST

UPDATE = """
mutation updateMetadata($input: MetadataInput!) {
  updateMetadata(input: $input) { metadata { key value } }
}
"""


def graphql(client: Client, token: str, variables: dict, request_id: str) -> dict:
    response = client.post(
        "/v1/graphql/",
        json.dumps({"query": UPDATE, "variables": variables}),
        content_type="application/json",
        headers={"Authorization": f"JWT {token}", "X-Request-Id": request_id},
    )
    assert response.status_code == 200
    assert response["X-Request-Id"] == request_id
    return response.json()


def test_rest_writes_are_audited_with_actor_door_and_request_id(
    token_for: Callable[[str], str],
) -> None:
    response = Client().put(
        f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata",
        json.dumps({"metadata": {"external_id": "id_1"}}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for(ENTITY_USER)}", "X-Request-Id": "rest-1"},
    )
    assert response.status_code == 200
    assert response["X-Request-Id"] == "rest-1"
    [change] = MetadataChange.objects.all()
    assert (change.door, change.actor, change.request_id, change.key) == (
        "rest",
        User.objects.get(email=ENTITY_USER),
        "rest-1",
        "external_id",
    )
    assert (change.existed_before, change.exists_after, change.new_value) == (False, True, "id_1")


def test_graphql_writes_are_audited_with_actor_door_and_request_id(
    token_for: Callable[[str], str],
) -> None:
    variables = {
        "input": {
            "linkedObjectType": "ACCOUNT",
            "identifier": "A-154321",
            "key": "pet",
            "value": '"dog"',
        }
    }
    graphql(Client(), token_for(SOME_TEST), variables, "gql-1")
    [change] = MetadataChange.objects.all()
    assert (change.door, change.actor, change.request_id, change.new_value) == (
        "graphql",
        User.objects.get(email=SOME_TEST),
        "gql-1",
        "dog",
    )


def test_refused_and_no_op_writes_leave_no_audit_entry(token_for: Callable[[str], str]) -> None:
    client = Client()
    token = token_for(PARTNER)
    same = {
        "input": {"linkedObjectType": "ACCOUNT", "identifier": "A-154321", "key": "k", "value": "1"}
    }
    graphql(client, token, same, "first")
    assert MetadataChange.objects.count() == 1
    graphql(client, token, same, "again")  # the same value: no change, no entry
    too_big = {"input": {**same["input"], "key": "big", "value": json.dumps("x" * 2000)}}
    refused = graphql(client, token, too_big, "big")
    assert refused["errors"][0]["extensions"]["errorCode"] == "KT-CT-8411"
    response = client.patch(
        f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata",
        json.dumps({"metadata": {"k" * 101: 1}}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    assert list(MetadataChange.objects.values_list("request_id", flat=True)) == ["first"]
