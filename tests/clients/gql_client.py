"""A partner's GraphQL client, written with `gql` as its documentation shows.

Run by `test_graphql_clients.py` with the Python of a venv that holds one gql release (never
the server's venv: gql 3.5 pins graphql-core < 3.2.7). It loads the schema by introspection,
validates every document against it locally (gql's default once a schema is known), and prints
one JSON object saying what it saw.

    python gql_client.py URL EMAIL PASSWORD ACCOUNT OTHER_ACCOUNT
"""

from __future__ import annotations

import json
import sys
from typing import Any

import gql
import graphql
from gql import Client
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport

TOKEN = """
mutation Login($email: String!, $password: String!) {
  obtainKrakenToken(input: {email: $email, password: $password}) { token refreshToken }
}
"""
UPDATE = """
mutation Update($input: MetadataInput!) {
  updateMetadata(input: $input) { metadata { key value } }
}
"""
ACCOUNT = """
query Account($number: String!) {
  account(accountNumber: $number) { number metadata { key value } }
}
"""
NOT_IN_SCHEMA = 'query { account(accountNumber: "A-1") { noSuchField } }'


def run(client: Client, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    request = gql.gql(query)
    if hasattr(request, "variable_values"):  # gql 4: the request carries its variables
        request.variable_values = variables
        return client.execute(request)
    return client.execute(request, variable_values=variables)


def client_for(url: str, token: str | None = None) -> Client:
    headers = {"Authorization": f"JWT {token}"} if token else {}
    transport = RequestsHTTPTransport(url=url, headers=headers, timeout=30)
    return Client(transport=transport, fetch_schema_from_transport=True)


def main(url: str, email: str, password: str, account: str, other_account: str) -> None:
    report: dict[str, Any] = {"gql": gql.__version__, "graphql_core": graphql.__version__}

    anonymous = client_for(url)
    login = run(anonymous, TOKEN, {"email": email, "password": password})
    token = login["obtainKrakenToken"]["token"]
    schema = anonymous.schema
    report["schema_loaded"] = schema is not None and "Mutation" in schema.type_map
    report["deprecated_locations"] = [
        location.name for location in schema.get_directive("deprecated").locations
    ]

    try:  # validated locally against the introspected schema: never sent
        run(anonymous, NOT_IN_SCHEMA)
        report["local_validation"] = "not validated"
    except graphql.GraphQLError as error:
        report["local_validation"] = error.message

    partner = client_for(url, token)
    value = json.dumps({"pet_type": "dog", "name": "fang", "tags": ["a", 1, None]})
    metadata_input = {
        "linkedObjectType": "ACCOUNT",
        "identifier": account,
        "key": "gql-client",
        "value": value,
    }
    report["update"] = run(partner, UPDATE, {"input": metadata_input})
    report["account"] = run(partner, ACCOUNT, {"number": account})

    try:
        run(partner, UPDATE, {"input": {**metadata_input, "identifier": other_account}})
        report["error"] = None
    except TransportQueryError as error:
        report["error"] = {"errors": error.errors, "data": error.data}

    print(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:])
