"""The OpenAPI description of the REST door (drf-spectacular), generated from the registry.

`PartnerMetadataSchema` describes one mounted partner_metadata route from the view's
`linkable`, so a new registry entry is documented with no edit here. Every operation lists
every status the door can answer with and the error body it carries (drf-spectacular does
not document 4xx by itself), and the Monite headers in both directions.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer

from metadata import linkables, rules, selectors
from metadata.rest import headers
from metadata.rest.serializers import (
    GRANTS,
    BatchResponseSerializer,
    BatchSerializer,
    ErrorResponseSerializer,
    LookupPageSerializer,
    PartnerMetadataSerializer,
    ReadManySerializer,
    TokenResponseSerializer,
    ValidationErrorResponseSerializer,
)

SECURITY_SCHEME = "bearerAuth"


class HeaderTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """One bearer-JWT scheme for `HeaderTokenAuthentication` (it reads one header)."""

    target_class = "metadata.rest.authentication.HeaderTokenAuthentication"
    name = SECURITY_SCHEME

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "A token from POST /v1/auth/token. 'Authorization: Bearer <token>' is the "
                "standard form; 'JWT <token>' and the bare token are accepted too."
            ),
        }


class EnvelopeSchemaExtension(OpenApiSerializerExtension):
    """The envelope takes exactly its members, PATCH included: `metadata` is required there
    too (drf-spectacular would make it optional), and nothing else is allowed."""

    target_class = PartnerMetadataSerializer

    def map_serializer(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        required = [name for name, field in self.target.fields.items() if field.required]
        return {**schema, "required": required, "additionalProperties": False}


class BatchSchemaExtension(EnvelopeSchemaExtension):
    """The batch's envelope: `data` required on PATCH too, nothing beside it."""

    target_class = BatchSerializer


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorResponseSerializer, description=description)


ERRORS: dict[int, OpenApiResponse] = {
    400: error(
        "The body is not JSON (NaN and Infinity included), not UTF-8, or empty (a body is read "
        "only when sent with Content-Length)."
    ),
    401: error("No credentials, or a bad or expired token (or an inactive user)."),
    403: error("The object's metadata is readable by the caller but not changeable."),
    404: error(
        "No such object, a malformed identifier, an object outside X-Monite-Entity-Id, or "
        "one the caller may not read: one answer for all, so identifiers cannot be probed."
    ),
    405: error("The method is not one this path serves (see the Allow header)."),
    412: error("If-Match does not match the document's current ETag; nothing was written."),
    413: error(f"The body is over {rules.MAX_BODY_BYTES} bytes; refused before parsing."),
    415: error("The body is not sent as application/json."),
    429: error(
        "Too many requests from this caller (one budget across both doors); see Retry-After."
    ),
    422: OpenApiResponse(
        ValidationErrorResponseSerializer,
        description=(
            'The body is not exactly {"metadata": {...}} (the member missing, another member '
            "beside it, or a body that is not an object), or the document breaks a rule: over "
            f"{rules.MAX_DOCUMENT_BYTES} bytes, a bad key, nested over {rules.MAX_DEPTH} levels, "
            'not an object. `detail` says where (loc, from "body"), which rule and by how much.'
        ),
    ),
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The documented error answers of an operation, by status code."""
    return {code: ERRORS[code] for code in codes}


REQUEST_ID = OpenApiParameter(
    "X-Request-Id",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description=(
        "The request's id (the client's X-Request-Id when it sent a sane one); on every "
        "answer, errors included."
    ),
    response=[200],
)
MONITE_HEADERS = [
    OpenApiParameter(
        headers.MONITE_VERSION,
        str,
        OpenApiParameter.HEADER,
        description="Monite's API version; accepted, not required, echoed back.",
    ),
    OpenApiParameter(
        headers.MONITE_ENTITY_ID,
        str,
        OpenApiParameter.HEADER,
        description=(
            "An entity's UUID. Scopes entities, counterparts and payables to that entity (an "
            "object outside it, or a malformed value, is 404); ignored by accounts, account "
            "users and properties. Echoed back."
        ),
    ),
    *(
        OpenApiParameter(
            name,
            str,
            OpenApiParameter.HEADER,
            description="Echoed when sent, on every answer (errors included).",
            response=[200],
        )
        for name in headers.ECHOED_HEADERS
    ),
    REQUEST_ID,
]
RATE_LIMIT_HEADERS = [
    OpenApiParameter(
        name,
        int,
        OpenApiParameter.HEADER,
        description=description,
        response=[200, 429],
    )
    for name, description in (
        ("X-RateLimit-Limit", "Units of work (items) the caller may spend per window."),
        ("X-RateLimit-Remaining", "Units left in the current window."),
        ("X-RateLimit-Reset", "Seconds until the current window ends and the budget renews."),
    )
]
IF_MATCH = OpenApiParameter(
    headers.IF_MATCH,
    str,
    OpenApiParameter.HEADER,
    description=(
        "One or more ETags (or *): the write happens only if the document's current ETag is "
        "one of them, else 412 and nothing is written."
    ),
)
ETAG = OpenApiParameter(
    headers.ETAG,
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="A strong validator of the document; send it back in If-Match.",
    response=[200],
)

_IDENTIFIER_TYPES: dict[str, Any] = {
    "uuid": OpenApiTypes.UUID,
    "integer": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    "string": {"type": "string", "minLength": 1, "maxLength": linkables.MAX_IDENTIFIER_LENGTH},
}

_OPERATIONS = {
    "GET": (
        "Read the partner metadata of one {noun}",
        "The whole document; `{{}}` when there is none.",
    ),
    "PUT": (
        "Replace the partner metadata of one {noun}",
        'The document becomes exactly `metadata`; `{{"metadata": {{}}}}` deletes it. '
        "Answers the stored document.",
    ),
    "PATCH": (
        "Merge into the partner metadata of one {noun}",
        "JSON Merge Patch (RFC 7396): a member set to null is removed, objects merge, other "
        "members are set; applied atomically. Answers the stored document.",
    ),
}


class PartnerMetadataSchema(AutoSchema):
    """One partner_metadata route, described from the view's registry entry."""

    @property
    def linkable(self) -> linkables.Linkable:
        return self.view.linkable

    def get_tags(self) -> list[str]:
        return [self.linkable.collection]

    @property
    def noun(self) -> str:
        return self.linkable.name.lower().replace("_", " ")

    def get_summary(self) -> str:
        return _OPERATIONS[self.method][0].format(noun=self.noun)

    def get_description(self) -> str:
        text = _OPERATIONS[self.method][1].format(noun=self.noun)
        return f"{text} {self.linkable.description}"

    def get_override_parameters(self) -> list[OpenApiParameter]:
        identifier = OpenApiParameter(
            "identifier",
            _IDENTIFIER_TYPES[self.linkable.identifier_kind],
            OpenApiParameter.PATH,
            description=self.linkable.description,
        )
        writing = [IF_MATCH] if self.method in ("PUT", "PATCH") else []
        return [identifier, *MONITE_HEADERS, *writing, ETAG, *RATE_LIMIT_HEADERS]

    def map_parsers(self) -> list[str]:
        if self.method == "PATCH":
            return super().map_parsers()
        return ["application/json"]

    def get_request_serializer(self) -> Any:
        return PartnerMetadataSerializer if self.method in ("PUT", "PATCH") else None

    def get_response_serializers(self) -> dict[int, OpenApiResponse]:
        ok = OpenApiResponse(PartnerMetadataSerializer, description="The document.")
        return {200: ok, **ERRORS}


class LookupSchema(AutoSchema):
    """`/v1/{collection}/partner_metadata`, described from the view's registry entry: GET
    (lookup by metadata, or read-many by id) and PATCH (the batch write)."""

    @property
    def linkable(self) -> linkables.Linkable:
        return self.view.linkable

    @property
    def plural(self) -> str:
        return self.linkable.collection.replace("_", " ")

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
                f"1 to {selectors.BATCH_MAX_ITEMS} objects, each named once, each with a JSON "
                "Merge Patch (RFC 7396) of its document and optionally the ETag it must still "
                "have (if_match). One transaction: if any item is refused, nothing is written "
                "and the answer is 422 with one `detail` entry per refused item, located at "
                '["body", "data", <index>, ...], its `type` naming the cause '
                "(value_error.not_found for a missing or unreadable object alike, "
                "value_error.permission_denied, value_error.precondition_failed, or the "
                "rule broken). X-Monite-Entity-Id scopes every item. A batch of N items counts "
                f"N against the caller's rate limit. Bodies up to {rules.MAX_BATCH_BODY_BYTES} "
                f"bytes. {self.linkable.description}"
            )
        return (
            "Two modes, whose parameters do not mix (422). With `key`: objects that have "
            "`key` (equal to any `value`, when given), among those the caller may read, "
            "ordered by identifier, a page at a time. With `id` (1 to "
            f"{selectors.BATCH_MAX_ITEMS}, repeated): the documents of the readable ones, in "
            "the order asked, the others omitted (`next_pagination_token` is then absent); "
            f"N ids count N against the caller's rate limit. {self.linkable.description}"
        )

    def get_override_parameters(self) -> list[OpenApiParameter]:
        if self.method == "PATCH":
            return [*MONITE_HEADERS, *RATE_LIMIT_HEADERS]
        limit = {"type": "integer", "minimum": 1, "maximum": selectors.LOOKUP_MAX_LIMIT}
        return [
            OpenApiParameter(
                "key",
                {"type": "string", "minLength": 1, "maxLength": rules.MAX_KEY_LENGTH},
                description="The metadata key the objects must have (lookup mode).",
            ),
            OpenApiParameter(
                "value",
                str,
                many=True,
                description=(
                    'A value as JSON text (`"id_6c8f1262fdbc"` with the quotes, `42`); '
                    "several mean any of them. Text that is not JSON is a 400."
                ),
            ),
            OpenApiParameter(
                "limit",
                {**limit, "default": selectors.LOOKUP_MAX_LIMIT},
                description="Page size.",
            ),
            OpenApiParameter(
                "pagination_token",
                str,
                description="next_pagination_token of the previous page.",
            ),
            OpenApiParameter(
                "id",
                {"uuid": OpenApiTypes.UUID, "integer": int, "string": str}[
                    self.linkable.identifier_kind
                ],
                many=True,
                description=(
                    f"Read-many mode: an object's identifier, 1 to {selectors.BATCH_MAX_ITEMS} "
                    "times; not with key, value, limit or pagination_token."
                ),
            ),
            *MONITE_HEADERS,
            *RATE_LIMIT_HEADERS,
        ]

    def map_parsers(self) -> list[str]:
        return ["application/json"]

    def get_request_serializer(self) -> Any:
        return BatchSerializer if self.method == "PATCH" else None

    def get_response_serializers(self) -> dict[int, OpenApiResponse]:
        if self.method == "PATCH":
            ok = OpenApiResponse(
                BatchResponseSerializer,
                description="Every object's document as stored, in the order of the request.",
            )
            refused = OpenApiResponse(
                ValidationErrorResponseSerializer,
                description=(
                    'The body is not {"data": [...]} of 1 to '
                    f"{selectors.BATCH_MAX_ITEMS} items with unique ids, or items were refused: "
                    "one `detail` entry per refused item; nothing was written."
                ),
            )
            codes = (400, 401, 405, 413, 415, 429)
            return {200: ok, **errors(*codes), 422: refused}
        ok = OpenApiResponse(
            PolymorphicProxySerializer(
                component_name="LookupOrReadMany",
                serializers=[LookupPageSerializer, ReadManySerializer],
                resource_type_field_name=None,
            ),
            description="One page of objects (key), or the readable objects asked for (id).",
        )
        codes = (400, 401, 404, 405, 422, 429)
        too_long = OpenApiResponse(  # answered by the HTTP server, before the application
            description="The request line is longer than the server accepts (8190 bytes with "
            "make serve): 100 ids fit; send fewer per request."
        )
        return {200: ok, **errors(*codes), 414: too_long}


class TokenSchema(AutoSchema):
    """`POST /v1/auth/token`."""

    def get_tags(self) -> list[str]:
        return ["auth"]

    def get_summary(self) -> str:
        return "Obtain an access token"

    def get_description(self) -> str:
        return (
            "client_credentials: a token for the partner's integration, reaching the entities "
            "the client serves and their counterparts and payables, nothing else; entity_user: "
            "a token acting as one user of an entity the client serves (the client's "
            "credentials plus entity_user_id); "
            "password (or no grant_type with email and password): a token for a person. "
            "The token lives 60 minutes."
        )

    def get_override_parameters(self) -> list[OpenApiParameter]:
        return [REQUEST_ID]

    def get_request_serializer(self) -> Any:
        return PolymorphicProxySerializer(
            component_name="TokenGrant",
            serializers=list(GRANTS.values()),
            resource_type_field_name=None,  # grant_type may be omitted: no discriminator
        )

    def get_response_serializers(self) -> dict[int, OpenApiResponse]:
        issued = OpenApiResponse(TokenResponseSerializer, description="The access token.")
        codes = (400, 401, 405, 413, 415, 422, 429)
        unauthorized = error(
            "The credentials are not valid (also an entity_user_id that is not an active user "
            "of an entity the client serves)."
        )
        return {
            200: issued,
            **errors(*codes),
            401: unauthorized,
        }
