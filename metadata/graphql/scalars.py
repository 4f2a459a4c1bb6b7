"""`JSONString`: the gateway's own strict scalar of Kraken's name (contract section 6).

graphene's `JSONString` parses while the request is coerced: NaN slips through and malformed
text becomes an HTTP 400 without Kraken's error extensions (stack note 6). Here the scalar
only checks that it was given a *string*; the resolver parses it with `metadata.rules`
after authentication and authorisation, so a bad value is a `VALIDATION` error (KT-CT-8411)
on the field, and nothing about the value is judged for a caller who may not write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import graphene
from graphql import GraphQLError, StringValueNode, Undefined, ValueNode

MSG_NOT_A_STRING = (
    'JSONString must be a string holding JSON text, for example "{\\"pet_type\\": \\"dog\\"}".'
)


_ENCODER = json.JSONEncoder(allow_nan=False)  # one for every value, as `json.dumps` would build


@dataclass(frozen=True)
class JSONText:
    """JSON text as the client sent it; `context.parse_value` parses it in the resolver."""

    text: str


@dataclass(frozen=True)
class StoredValue:
    """A stored JSON value on its way out.

    Wrapped so that a stored `null` still reaches `serialize` (graphql-core skips a resolver's
    bare `None`) and comes back as the text `"null"`, as the contract requires.
    """

    value: Any


class JSONString(graphene.Scalar):
    """A JSON value written as a string of JSON text, e.g. "{\\"pet_type\\": \\"dog\\"}".

    Input must be strict JSON (no NaN or Infinity); output is the stored value as JSON text.
    """

    @staticmethod
    def serialize(value: Any) -> str:
        stored = value.value if isinstance(value, StoredValue) else value
        # Python's default separators, as Kraken answers: '{"pet_type": "dog", "name": "fang"}'.
        return _ENCODER.encode(stored)

    @staticmethod
    def parse_literal(node: ValueNode, _variables: Any = None) -> JSONText | Any:
        if isinstance(node, StringValueNode):
            return JSONText(node.value)
        return Undefined  # graphql-core reports "Expected value of type 'JSONString!'".

    @staticmethod
    def parse_value(value: Any) -> JSONText:
        if not isinstance(value, str):
            raise GraphQLError(MSG_NOT_A_STRING)
        return JSONText(value)
