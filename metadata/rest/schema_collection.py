"""The OpenAPI description of `/v1/{collection}/partner_metadata`, from the view's registry
entry: GET (lookup by metadata, or read-many by id) and PATCH (the batch write).

Partners generate clients from this text, so it states every rule the server applies to
these routes: the members each body must have and their minimum lengths, the size of a
batch, which query parameters go together, and every status with its body.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
)

from metadata import batches, linkables, lookups, rules
from metadata.rest.schema_answers import (
    DEMO_IDENTIFIERS,
    MONITE_HEADERS,
    RATE_LIMIT_HEADERS,
    URI_TOO_LONG,
    error,
    errors,
    refusal,
)
from metadata.rest.schema_extensions import NO_NUL_PATTERN
from metadata.rest.serializers import (
    KEY_SCHEMA,
    BatchResponseSerializer,
    BatchSerializer,
    LookupPageSerializer,
    ReadManySerializer,
)

LOOKUP_VALUE = "value"
READ_MANY = "id"

MODES = (
    "The two modes' parameters do not mix: `id` beside any of key, value, limit or "
    "pagination_token is 422 `value_error.mixed_modes`; neither `id` nor `key` is 422 "
    "`value_error.missing` (at key); any other query parameter is 422 `value_error.extra`."
)
BATCH_RULES = (
    f"1 to {batches.BATCH_MAX_ITEMS} objects, each named once (a repeated `id` is 422 "
    "`value_error.duplicate`), each with a JSON Merge Patch (RFC 7396) of its document and "
    "optionally the ETag it must still have (`if_match`, read as an If-Match header is: a "
    "list that holds no tag matches nothing). One transaction: if any item is refused, "
    "nothing is written and the answer is 422 with one `detail` entry per refused item, "
    'located at ["body", "data", <index>, ...], its `type` naming the cause: '
    "`value_error.not_found` for a missing, unreadable or malformed identifier alike (and "
    "one outside X-Monite-Entity-Id), `value_error.permission_denied` for an object readable "
    "but not changeable, `value_error.precondition_failed` for a stale `if_match`, or the "
    "rule the document as it would be breaks (`value_error.too_large` past "
    f"{rules.MAX_DOCUMENT_BYTES} bytes, say). A batch of N items counts N against the "
    "caller's rate limit. An If-Match header is not read here: each item carries its own "
    "`if_match`."
)


def _identifiers(linkable: linkables.Linkable) -> str:
    """How a malformed identifier of this collection reads: as no object at all."""
    kind = {
        "uuid": "not a UUID in its 36-character form",
        "integer": "not a whole number from 1 to 2^63-1",
    }.get(linkable.identifier_kind, f"over {linkables.MAX_IDENTIFIER_LENGTH} characters")
    return f"missing, unreadable, malformed ({kind}) or outside X-Monite-Entity-Id"


class LookupSchema(AutoSchema):
    """One collection route, described from the view's registry entry."""

    @property
    def linkable(self) -> linkables.Linkable:
        return self.view.linkable

    @property
    def plural(self) -> str:
        return self.linkable.collection.replace("_", " ")

    @property
    def demo(self) -> str | None:
        demo = DEMO_IDENTIFIERS.get(self.linkable.collection)
        return None if demo is None else str(demo)

    def get_tags(self) -> list[str]:
        return [self.linkable.collection]

    def get_operation_id(self) -> str:
        if self.method == "PATCH":
            return f"{self.linkable.collection}_partner_metadata_batch"
        return f"{self.linkable.collection}_partner_metadata_lookup"

    def get_summary(self) -> str:
        if self.method == "PATCH":
            return f"Merge into the partner metadata of many {self.plural}, all or nothing"
        return f"Find {self.plural} by partner metadata, or read many by id"

    def get_description(self) -> str:
        if self.method == "PATCH":
            return (
                f"{BATCH_RULES} Bodies up to {rules.MAX_BATCH_BODY_BYTES} bytes. "
                f"{self.linkable.description}"
            )
        return (
            "Two modes. Lookup, with `key`: the objects that have `key` (equal to any "
            "`value`, when given), among those the caller may read, ordered by identifier, a "
            f"page at a time. Read-many, with `id` (1 to {batches.BATCH_MAX_ITEMS}, "
            "repeated): the documents of the objects asked for, in the order asked, each "
            f"once; an identifier {_identifiers(self.linkable)} is omitted "
            "(`next_pagination_token` is then absent). N ids count N against the caller's "
            f"rate limit. {MODES} {self.linkable.description}"
        )

    def get_override_parameters(self) -> list[OpenApiParameter]:
        if self.method == "PATCH":
            return [*MONITE_HEADERS, *RATE_LIMIT_HEADERS]
        limit = {"type": "integer", "minimum": 1, "maximum": lookups.LOOKUP_MAX_LIMIT}
        ids = {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "pattern": NO_NUL_PATTERN},
            "minItems": 1,
            "maxItems": batches.BATCH_MAX_ITEMS,
        }
        demo = [] if self.demo is None else [OpenApiExample("demo data", value=[self.demo])]
        return [
            OpenApiParameter(
                "key",
                KEY_SCHEMA,
                description=(
                    "The metadata key the objects must have (lookup mode); the same rules as "
                    "a document's keys (422 otherwise)."
                ),
                examples=[OpenApiExample("the seed's key", value="external_id")],
            ),
            OpenApiParameter(
                LOOKUP_VALUE,
                OpenApiTypes.STR,  # JSON content: see `schema_postprocess`
                description=(
                    'A value as JSON text: `"id_6c8f1262fdbc"` (with the quotes) for a '
                    'string, `42`, `true`, `null`, `{"a": 1}`. Repeat the parameter to find '
                    "objects whose value is any of them (OpenAPI describes one). Text that is "
                    "not JSON is a 400; a value that breaks the rules of a document's values "
                    "(U+0000 in a string, nested too deep) is a 422."
                ),
            ),
            OpenApiParameter(
                "limit",
                {**limit, "default": lookups.LOOKUP_MAX_LIMIT},
                description="Page size (lookup mode).",
            ),
            OpenApiParameter(
                "pagination_token",
                str,
                description=(
                    "next_pagination_token of the previous page, as it came (opaque). A "
                    "token the server did not issue is refused with 422, unless it happens "
                    "to decode to an identifier of this collection."
                ),
            ),
            OpenApiParameter(
                READ_MANY,
                ids,
                description=(
                    "Read-many mode: an object's identifier, as in its partner_metadata URL, "
                    f"1 to {batches.BATCH_MAX_ITEMS} times (more is 422); any text but an "
                    "empty one (422) names an object or nothing."
                ),
                examples=demo,
            ),
            *MONITE_HEADERS,
            *RATE_LIMIT_HEADERS,
        ]

    def map_parsers(self) -> list[str]:
        return ["application/json"]

    def get_request_serializer(self) -> Any:
        return BatchSerializer if self.method == "PATCH" else None

    def get_examples(self) -> list[OpenApiExample]:
        if self.method != "PATCH" or self.demo is None:
            return []
        item = {"id": self.demo, "metadata": {"external_id": "id_6c8f1262fdbc"}}
        return [OpenApiExample("demo data", value={"data": [item]}, request_only=True)]

    def get_response_serializers(self) -> dict[int, OpenApiResponse]:
        if self.method == "PATCH":
            return self._batch_answers()
        return self._read_answers()

    def _batch_answers(self) -> dict[int, OpenApiResponse]:
        ok = OpenApiResponse(
            BatchResponseSerializer,
            description="Every object's document as stored, in the order of the request.",
        )
        refused = refusal(
            'The body is not {"data": [...]} of 1 to '
            f"{batches.BATCH_MAX_ITEMS} items, each exactly {{id, metadata, if_match?}} with "
            "`id` and `if_match` non-empty strings and each `id` once (`detail` locates the "
            "member), or items were refused: one `detail` entry per refused item, its `type` "
            "the cause. Nothing was written."
        )
        too_large = error(
            f"The body is over {rules.MAX_BATCH_BODY_BYTES} bytes; refused before parsing."
        )
        return {
            200: ok,
            **errors(400, 401, 405),
            413: too_large,
            **errors(415, 429),
            422: refused,
        }

    def _read_answers(self) -> dict[int | tuple[int, str], OpenApiResponse]:
        either = PolymorphicProxySerializer(
            component_name="LookupOrReadMany",
            serializers=[LookupPageSerializer, ReadManySerializer],
            resource_type_field_name=None,
        )
        ok = OpenApiResponse(
            either,
            description="One page of objects (key), or the readable objects asked for (id).",
        )
        not_json = error("Lookup mode: a `value` is not JSON text (NaN and Infinity included).")
        refused = refusal(
            f'The query breaks a rule (`detail` locates it, from "query"). {MODES} Also: '
            "`key` breaks the rules of a document's keys, a `value` those of its values, "
            f"`limit` is not a whole number from 1 to {lookups.LOOKUP_MAX_LIMIT}, "
            "`pagination_token` was not issued by this lookup (`value_error.invalid_lookup`), "
            f"an `id` is empty, or there are more than {batches.BATCH_MAX_ITEMS}."
        )
        answers: dict[int | tuple[int, str], OpenApiResponse] = {
            200: ok,
            400: not_json,
            **errors(401),
        }
        if self.linkable.entity_field is not None:
            answers[404] = error(
                "Lookup mode: X-Monite-Entity-Id is not a UUID (read-many then omits every "
                "object, as outside the scope)."
            )
        answers.update({**errors(405), 422: refused, **errors(429)})
        answers[(414, "text/html")] = URI_TOO_LONG
        return answers
