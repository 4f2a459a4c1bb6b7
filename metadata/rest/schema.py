"""The OpenAPI description of the REST door's single-object routes, the token route and
the provisioning route (drf-spectacular `AutoSchema`s, one per kind of view).

`PartnerMetadataSchema` describes one mounted partner_metadata route from the view's
`linkable`, so a new registry entry is documented with no edit here. The collection routes
are described in `schema_collection`; what operations share (error answers, headers, demo
examples) in `schema_answers`; the drf-spectacular extensions in `schema_extensions`, and
what is added after generation in `schema_postprocess`.
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

from metadata import linkables, provisioning
from metadata.rest import schema_extensions  # noqa: F401  (registers the extensions)
from metadata.rest.schema_answers import (
    DEMO_CLIENT_GRANT,
    DEMO_IDENTIFIERS,
    ERRORS,
    ETAG,
    IF_MATCH,
    IF_MATCH_RULES,
    MONITE_HEADERS,
    RATE_LIMIT_HEADERS,
    REQUEST_ID,
    error,
    errors,
    refusal,
)
from metadata.rest.serializers import (
    GRANTS,
    PartnerMetadataSerializer,
    ProvisioningSummarySerializer,
    TokenResponseSerializer,
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


NDJSON_BODY: dict[str, Any] = {
    "type": "string",
    # At least one character `bytes.strip` keeps: a line that is not blank (it may fail alone).
    "pattern": "[^\\t\\n\\u000b\\f\\r ]",
    "description": (
        "NDJSON text: one JSON object per line, at most "
        f"{provisioning.MAX_REQUEST_LINES:,} lines that are not blank and "
        f"{provisioning.MAX_REQUEST_BYTES:,} bytes. Blank lines are skipped (and counted in "
        "line numbers); a body with no other line is 422. Each other line is applied alone: "
        "one that is not JSON, not an object or not a valid object fails alone, listed in "
        "the answer's `failed`. For example, two lines: "
        '`{"type": "ACCOUNT_USER", "id": "new.user@example.com", "is_active": true}` and '
        '`{"type": "ACCOUNT", "id": "A-200001", "users": ["new.user@example.com"]}`.'
    ),
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
        return {"application/x-ndjson": NDJSON_BODY}  # a media type's raw schema

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
            422: refusal("The body has no lines, or more than 10,000."),
            429: ERRORS[429],
        }
