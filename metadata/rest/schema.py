"""The OpenAPI description of the REST door (drf-spectacular), generated from the registry.

`PartnerMetadataSchema` describes one mounted partner_metadata route from the view's
`linkable`, so a new registry entry is documented with no edit here. Every operation lists
every status the door can answer with and the error body it carries (drf-spectacular does
not document 4xx by itself), and the Monite headers in both directions.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
)

from metadata import batches, linkables, lookups, rules
from metadata.rest import headers
from metadata.rest.serializers import (
    GRANTS,
    KEY_SCHEMA,
    METADATA_VALUE,
    BatchResponseSerializer,
    BatchSerializer,
    EnvelopeSerializer,
    ErrorResponseSerializer,
    LookupPageSerializer,
    PartnerMetadataSerializer,
    ProvisioningSummarySerializer,
    ReadManySerializer,
    StrictCharField,
    TokenResponseSerializer,
    ValidationErrorResponseSerializer,
)

SECURITY_SCHEME = "bearerAuth"
LOOKUP_VALUE = "value"
TOKEN_OPERATION = "auth_token_create"


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
    """An envelope takes exactly its members: nothing else is allowed (the server answers
    422 `value_error.extra`). The metadata envelope requires `metadata` on PATCH too
    (drf-spectacular would make it optional there)."""

    target_class = EnvelopeSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema = {**schema, "additionalProperties": False}
        target = self.target if isinstance(self.target, type) else type(self.target)
        if issubclass(target, PartnerMetadataSerializer):
            fields = PartnerMetadataSerializer().fields
            schema["required"] = [name for name, field in fields.items() if field.required]
        return schema


# What `str.strip` removes (DRF trims text fields with it before checking they are blank).
_STRIPPED = (
    "\\u0009-\\u000D\\u001C-\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029"
    "\\u202F\\u205F\\u3000"
)
NO_NUL_PATTERN = "^[^\\u0000]*$"
NO_NUL_NOT_BLANK_PATTERN = f"^[^\\u0000]*[^\\u0000{_STRIPPED}][^\\u0000]*$"


class StrictCharFieldSchema(OpenApiSerializerFieldExtension):
    """A strict text field as DRF's CharField is described, plus what DRF refuses beyond
    it (422): U+0000 anywhere, and, where it trims, text that is only white space."""

    target_class = StrictCharField
    match_subclasses = True

    def map_serializer_field(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        trims = self.target.trim_whitespace and not self.target.allow_blank
        pattern = NO_NUL_NOT_BLANK_PATTERN if trims else NO_NUL_PATTERN
        return {"pattern": pattern, **schema}


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


URI_TOO_LONG = OpenApiResponse(
    OpenApiTypes.STR,
    description=(
        "The request line (method, path and query) is over 8190 bytes: the HTTP server "
        "(gunicorn's limit_request_line) refuses it with its own HTML page before the "
        "gateway reads it. Long `value` or `id` lists call for several requests."
    ),
)


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
# Contract section 8: the demo data's objects, so that examples reach the logic of every
# operation (a random identifier names nothing and answers 404).
DEMO_ENTITY = "3a9c5e1e-0000-4000-8000-000000000001"
DEMO_IDENTIFIERS: dict[str, str | int] = {
    "accounts": "A-154321",
    "account_users": "some.test@email.com",
    "properties": 1,
    "entities": DEMO_ENTITY,
    "counterparts": "3a9c5e1e-0000-4000-8000-000000000011",
    "payables": "3a9c5e1e-0000-4000-8000-000000000021",
}
DEMO_CLIENT_GRANT = {
    "grant_type": "client_credentials",
    "client_id": "3a9c5e1e-0000-4000-8000-0000000000c1",
    "client_secret": "demo-client-secret",
}

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
        examples=[OpenApiExample("Entity One (demo data)", value=DEMO_ENTITY)],
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
IF_MATCH_RULES = (
    "**If-Match** (optional). Absent: the write is unconditional. Present: a comma-separated "
    'list of entity tags (`"<tag>"`, `W/"<tag>"`, `*`; a tag sent without its quotes is read '
    "as if quoted). The write happens only if the list holds `*` (which matches always, also "
    "when the object has no metadata yet) or the document's current ETag, compared strongly "
    "(a weak tag never matches); otherwise 412 and nothing is written. A header that is "
    "present but holds no tag (an empty value, or only commas and spaces) matches nothing: "
    "412. The order of answers: 413 (a body over the limit) first, then 401, 404, 403, then "
    "400 or 415 for a body that is not JSON, 422 for a body that is not "
    '`{"metadata": {...}}`, then 412, then 422 for a document that breaks a rule.'
)
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
    description=IF_MATCH_RULES,
    examples=[OpenApiExample("any current document", value="*")],
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
        conditional = f"\n\n{IF_MATCH_RULES}" if self.method in ("PUT", "PATCH") else ""
        return f"{text} {self.linkable.description}{conditional}"

    def get_override_parameters(self) -> list[OpenApiParameter]:
        demo = DEMO_IDENTIFIERS.get(self.linkable.collection)
        identifier = OpenApiParameter(
            "identifier",
            _IDENTIFIER_TYPES[self.linkable.identifier_kind],
            OpenApiParameter.PATH,
            description=self.linkable.description,
            examples=[] if demo is None else [OpenApiExample("demo data", value=demo)],
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
                f"1 to {batches.BATCH_MAX_ITEMS} objects, each named once, each with a JSON "
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
            f"{batches.BATCH_MAX_ITEMS}, repeated): the documents of the readable ones, in "
            "the order asked, the others omitted (`next_pagination_token` is then absent); "
            f"N ids count N against the caller's rate limit. {self.linkable.description}"
        )

    def get_override_parameters(self) -> list[OpenApiParameter]:
        if self.method == "PATCH":
            return [*MONITE_HEADERS, *RATE_LIMIT_HEADERS]
        limit = {"type": "integer", "minimum": 1, "maximum": lookups.LOOKUP_MAX_LIMIT}
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
                OpenApiTypes.STR,  # replaced by JSON content in `postprocess`
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
                description="Page size.",
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
                "id",
                {"uuid": OpenApiTypes.UUID, "integer": int, "string": str}[
                    self.linkable.identifier_kind
                ],
                many=True,
                description=(
                    f"Read-many mode: an object's identifier, 1 to {batches.BATCH_MAX_ITEMS} "
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
                    f"{batches.BATCH_MAX_ITEMS} items with unique ids, or items were refused: "
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
        return {200: ok, **errors(*codes), (414, "text/html"): URI_TOO_LONG}


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

    def get_examples(self) -> list[OpenApiExample]:
        return [
            OpenApiExample(
                "the demo partner client",
                value=DEMO_CLIENT_GRANT,
                request_only=True,
                description="Contract section 8: a token for the demo partner's integration.",
            )
        ]

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


class ProvisioningSchema(AutoSchema):
    """`POST /v1/provisioning/objects`."""

    def get_tags(self) -> list[str]:
        return ["provisioning"]

    def get_summary(self) -> str:
        return "Create, update or retire linkable objects (NDJSON)"

    def get_description(self) -> str:
        shapes = "; ".join(
            f"{linkable.name}: "
            + ", ".join(
                [a.key for a in linkable.provisioning.attributes]
                + ([linkable.provisioning.parent.key] if linkable.provisioning.parent else [])
                + (["users (emails)"] if linkable.provisioning.members else [])
            )
            for linkable in linkables.all_linkables()
        )
        return (
            'One JSON object per line: {"type": <LinkedObjectType>, "id": <identifier>, ...} '
            f"with, by type, {shapes}. A line creates or updates its object (a users list "
            'replaces the memberships); {"type", "id", "retired": true} retires it (its '
            "metadata is deleted, audited and announced as any delete; it then answers as "
            "missing). Each line is applied alone; a failing line (an unknown parent, say) "
            "fails alone. At most 10,000 lines and 4 MiB. Only a provisioning client's "
            "client_credentials token may call this."
        )

    def get_override_parameters(self) -> list[OpenApiParameter]:
        return [REQUEST_ID]

    def get_request_serializer(self) -> Any:
        return OpenApiTypes.STR

    def get_response_serializers(self) -> dict[int, OpenApiResponse]:
        done = OpenApiResponse(
            ProvisioningSummarySerializer,
            description="What the lines did; failed lines by number, with the reason.",
        )
        return {
            200: done,
            401: ERRORS[401],
            403: error("The token is not a provisioning client's client_credentials token."),
            405: ERRORS[405],
            413: error("The body is over 4 MiB (4,194,304 bytes)."),
            415: error("The body is not sent as application/x-ndjson."),
            422: OpenApiResponse(
                ValidationErrorResponseSerializer,
                description="The body has no lines, or more than 10,000.",
            ),
            429: ERRORS[429],
        }


NO_NUL = {"type": "string", "pattern": "^[^\\u0000]*$"}
METADATA_VALUE_SCHEMA: dict[str, Any] = {
    "description": (
        "Any JSON value: no string and no member name holds U+0000, numbers are finite, and "
        f"it nests at most {rules.MAX_DEPTH} levels (`x-max-depth`)."
    ),
    "anyOf": [
        {"type": "null"},
        {"type": "boolean"},
        {"type": "number"},
        NO_NUL,
        {"type": "array", "items": {"$ref": f"#/components/schemas/{METADATA_VALUE}"}},
        {
            "type": "object",
            "propertyNames": NO_NUL,
            "additionalProperties": {"$ref": f"#/components/schemas/{METADATA_VALUE}"},
        },
    ],
    "x-max-depth": rules.MAX_DEPTH,
}
_SUBSCRIPTION_ID = {"subscription_id": "$response.body#/id"}
SUBSCRIPTION_LINKS: dict[str, dict[str, Any]] = {
    "GetSubscription": {"operationId": "get_webhook_subscription"},
    "UpdateSubscription": {"operationId": "update_webhook_subscription"},
    "DeleteSubscription": {"operationId": "delete_webhook_subscription"},
    "RotateSecret": {"operationId": "rotate_webhook_secret"},
    "ListDeliveries": {"operationId": "list_webhook_deliveries"},
}


def postprocess(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """A drf-spectacular `POSTPROCESSING_HOOKS` entry: what its builders cannot emit.

    The self-referring `MetadataValue` (OpenAPI 3.1), the lookup's `value` as JSON content
    (a parameter serialised as JSON text), and the OpenAPI links that lead from a created
    webhook subscription to its operations and from a read document to a conditional write.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[METADATA_VALUE] = METADATA_VALUE_SCHEMA
    # A lookup page and a read-many answer share their shape where a lookup page's token is
    # null: either may match, so the two are alternatives, not exclusive ones.
    if "LookupOrReadMany" in schemas:
        schemas["LookupOrReadMany"] = {"anyOf": schemas["LookupOrReadMany"]["oneOf"]}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            _value_as_json(operation)
            if operation.get("operationId") == TOKEN_OPERATION:
                operation["requestBody"]["required"] = True  # no body is a 400
            if operation.get("operationId") == "create_webhook_subscription":
                links = {
                    name: {**link, "parameters": _SUBSCRIPTION_ID}
                    for name, link in SUBSCRIPTION_LINKS.items()
                }
                operation["responses"]["201"]["links"] = links
            elif method == "get" and "ETag" in operation["responses"]["200"].get("headers", {}):
                operation["responses"]["200"]["links"] = _conditional_writes(item)
    return result


def _value_as_json(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and parameter["name"] == LOOKUP_VALUE:
            for member in ("schema", "style", "explode"):
                parameter.pop(member, None)
            parameter["content"] = {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{METADATA_VALUE}"},
                    "example": "id_6c8f1262fdbc",
                }
            }


def _conditional_writes(item: dict[str, Any]) -> dict[str, Any]:
    """From a read document to PUT and PATCH of the same object with its ETag."""
    return {
        f"{method.capitalize()}IfUnchanged": {
            "operationId": item[method]["operationId"],
            "parameters": {
                "identifier": "$request.path.identifier",
                f"header.{headers.IF_MATCH}": f"$response.header.{headers.ETAG}",
            },
        }
        for method in ("put", "patch")
        if method in item
    }
