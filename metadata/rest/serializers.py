"""Request and response bodies of the REST door.

The serializers check the *envelope* (a JSON object with exactly the members the operation
takes) and describe the bodies in the OpenAPI schema. Whether a document is valid is not
their business: the document is passed through untouched and `metadata.rules` decides, the
same way for every door.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from metadata import rules
from metadata.batches import BATCH_MAX_ITEMS

MSG_NOT_OBJECT = "the body must be a JSON object, not {kind}"
MSG_EXTRA = "unexpected member; the body takes only {allowed}"
# DRF formats field messages with str.format: braces are doubled.
MSG_METADATA_MISSING = 'the member "metadata" is required, e.g. {{"metadata": {{}}}}'

# Contract section 4 in JSON Schema (2020-12, as OpenAPI 3.1 uses it). A key: 1 to
# MAX_KEY_LENGTH characters, no C0/C1 control character, at least one character that is not
# white space (Python's `str.isspace`, less the control characters already excluded).
_CONTROL = "\\u0000-\\u001F\\u007F-\\u009F"
_SPACE = "\\u0020\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000"
KEY_PATTERN = f"^[^{_CONTROL}]*[^{_CONTROL}{_SPACE}][^{_CONTROL}]*$"
KEY_SCHEMA: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": rules.MAX_KEY_LENGTH,
    "pattern": KEY_PATTERN,
}
METADATA_VALUE = "MetadataValue"
"""The component (added by `metadata.rest.schema_postprocess`): any JSON value whose strings
and member names hold no U+0000; it refers to itself, which OpenAPI 3.1 allows."""

DOCUMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "propertyNames": KEY_SCHEMA,
    "additionalProperties": {"$ref": f"#/components/schemas/{METADATA_VALUE}"},
    "description": (
        f"Keys map to any JSON value. Keys are 1 to {rules.MAX_KEY_LENGTH} characters, not "
        "only white space, without control characters (U+0000-U+001F, U+007F-U+009F); no "
        "string anywhere may contain U+0000; values nest at most "
        f"{rules.MAX_DEPTH} levels (a scalar is depth 0, an array or object 1 + its deepest "
        "member); the whole document after the change, as compact UTF-8 JSON with sorted "
        f"keys, is at most {rules.MAX_DOCUMENT_BYTES} bytes (`x-max-bytes`: JSON Schema cannot "
        "count bytes). A document breaking a rule is refused with 422 and nothing is written."
    ),
    "x-max-bytes": rules.MAX_DOCUMENT_BYTES,
    "x-max-depth": rules.MAX_DEPTH,
    "example": {"external_id": "id_6c8f1262fdbc", "comment": ""},
}


class StrictBooleanField(serializers.BooleanField):
    """JSON `true` or `false` only: DRF's field also takes "yes", 1, "on" and the like, which
    a generated client (and the OpenAPI `boolean` it reads) never means."""

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)
        raise AssertionError  # pragma: no cover - `fail` raises


class StrictCharField(serializers.CharField):
    """A JSON string only: DRF's field turns numbers into text, which the schema's `string`
    does not promise."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def json_kind(value: Any) -> str:
    """The JSON name of a parsed value's type, for messages (never a Python type name)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


class EnvelopeSerializer(serializers.Serializer):
    """A JSON object whose members are exactly the declared fields (none missing, none extra)."""

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        # Every body, `null` included, goes through `to_internal_value` for one message.
        return False, data

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            message = MSG_NOT_OBJECT.format(kind=json_kind(data))
            raise ValidationError({"body": [ErrorDetail(message, code="type_error.dict")]})
        allowed = ", ".join(f'"{name}"' for name in self.fields)
        extra = [key for key in data if key not in self.fields]
        if extra:
            message = MSG_EXTRA.format(allowed=allowed)
            raise ValidationError(
                {key: [ErrorDetail(message, code="value_error.extra")] for key in extra}
            )
        return super().to_internal_value(data)


@extend_schema_field(DOCUMENT_SCHEMA)
class DocumentField(serializers.Field):
    """A metadata document as sent: any JSON value, judged later by `metadata.rules`."""

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        # `null` is not a document either: it goes on to the rules, which say so.
        if data is None:
            return False, data
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class PartnerMetadataSerializer(EnvelopeSerializer):
    """`{"metadata": {...}}`: the body of PUT and PATCH, and of every 200 answer."""

    metadata = DocumentField(error_messages={"required": MSG_METADATA_MISSING})


class ErrorSerializer(serializers.Serializer):
    """`{"type", "message"}`: what went wrong, by a stable type and in words."""

    type = serializers.CharField(help_text="A stable, machine-readable error type.")
    message = serializers.CharField(help_text="What went wrong, for the person calling.")


class ErrorResponseSerializer(serializers.Serializer):
    """Every error answer: `{"error": {"type", "message"}}`."""

    error = ErrorSerializer()


@extend_schema_field(
    {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "integer"}]}}
)
class LocationField(serializers.ListField):
    """A path into the request body, from `"body"` down to the offending member."""


class ValidationDetailSerializer(serializers.Serializer):
    loc = LocationField(help_text='Where: a path into the body, e.g. ["body", "metadata", "k"].')
    msg = serializers.CharField(help_text="Which rule was broken, and by how much.")
    type = serializers.CharField(help_text="A stable, machine-readable type of the violation.")


class ValidationErrorResponseSerializer(ErrorResponseSerializer):
    """422: the error, plus Monite's (FastAPI's) list of violations."""

    detail = ValidationDetailSerializer(many=True)


GRANT_CLIENT_CREDENTIALS = "client_credentials"
GRANT_ENTITY_USER = "entity_user"
GRANT_PASSWORD = "password"
MSG_GRANT_MISSING = (
    "grant_type is required: client_credentials, entity_user or password "
    "(it may be omitted only when email and password are sent)"
)
MSG_GRANT_UNKNOWN = "grant_type must be client_credentials, entity_user or password"


def _text(max_length: int, help_text: str, *, secret: bool = False) -> serializers.CharField:
    return StrictCharField(max_length=max_length, trim_whitespace=not secret, help_text=help_text)


class ClientCredentialsGrantSerializer(serializers.Serializer):
    """A token for the partner's integration: it acts as the client's own user."""

    grant_type = serializers.ChoiceField(choices=[GRANT_CLIENT_CREDENTIALS])
    client_id = _text(64, "The partner client's id (a UUID).")
    client_secret = _text(256, "The partner client's secret.", secret=True)


class EntityUserGrantSerializer(ClientCredentialsGrantSerializer):
    """A token with which the partner's integration acts as one entity user."""

    grant_type = serializers.ChoiceField(choices=[GRANT_ENTITY_USER])
    entity_user_id = _text(
        64, "The id (a UUID) of the user to act as: a user of an entity the client serves."
    )


class PasswordGrantSerializer(serializers.Serializer):
    """A token for a person, by email address and password."""

    grant_type = serializers.ChoiceField(choices=[GRANT_PASSWORD], required=False)
    email = _text(254, "The person's email address.")
    password = _text(256, "The person's password.", secret=True)


GRANTS: Mapping[str, type[serializers.Serializer]] = {
    GRANT_CLIENT_CREDENTIALS: ClientCredentialsGrantSerializer,
    GRANT_ENTITY_USER: EntityUserGrantSerializer,
    GRANT_PASSWORD: PasswordGrantSerializer,
}


def _grant_error(message: str, code: str) -> ValidationError:
    return ValidationError({"grant_type": [ErrorDetail(message, code=code)]})


def grant_serializer_for(data: Any) -> serializers.Serializer:
    """The serializer of the grant a token request names (Monite's form, OAuth's names).

    Without `grant_type`, a body with email and password is the password grant. Unknown
    members are ignored, as OAuth servers do.
    """
    if not isinstance(data, Mapping):
        message = MSG_NOT_OBJECT.format(kind=json_kind(data))
        raise ValidationError({"body": [ErrorDetail(message, code="type_error.dict")]})
    grant = data.get("grant_type")
    if grant is None:
        if "email" not in data or "password" not in data:
            raise _grant_error(MSG_GRANT_MISSING, "required")
        grant = GRANT_PASSWORD
    if not isinstance(grant, str) or grant not in GRANTS:
        raise _grant_error(MSG_GRANT_UNKNOWN, "invalid_choice")
    return GRANTS[grant](data=data)


class TokenResponseSerializer(serializers.Serializer):
    access_token = serializers.CharField(help_text="A JWT; send it as 'Authorization: Bearer …'.")
    token_type = serializers.ChoiceField(choices=["Bearer"])
    expires_in = serializers.IntegerField(help_text="Seconds the access token stays valid.")


class LookupQuerySerializer(serializers.Serializer):
    """The query of `GET /v1/{collection}/partner_metadata` (contract section 9).

    Only the query's shape is checked here; whether the key, the values, the page size and
    the token are acceptable is decided by `lookups.lookup` and the rules.
    """

    key = serializers.CharField(allow_blank=True, trim_whitespace=False)
    value = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False), required=False
    )
    limit = serializers.IntegerField(required=False)
    pagination_token = serializers.CharField(required=False, trim_whitespace=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # DRF reads a blank query value of an optional field as "not sent"; `limit=` is a
        # page size that is not a number, and is refused as one.
        if self.initial_data.get("limit") == "":
            raise serializers.ValidationError({"limit": "A valid integer is required."})
        return attrs


class LookupItemSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The object's identifier, as in its partner_metadata URL.")
    metadata = DocumentField(help_text="The object's whole document.")


class LookupPageSerializer(serializers.Serializer):
    """One page of a lookup, Monite-style."""

    data = LookupItemSerializer(many=True)
    next_pagination_token = serializers.CharField(
        allow_null=True,
        help_text="Send it as pagination_token for the next page; null on the last.",
    )


class ProvisioningFailureSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The line's number in the body, from 1.")
    reason = serializers.CharField()


class ProvisioningSummarySerializer(serializers.Serializer):
    """What `POST /v1/provisioning/objects` did with the lines, by outcome."""

    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    retired = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    failed = ProvisioningFailureSerializer(many=True)


MSG_DUPLICATE_ID = "this id is already item {first} of the batch; name each object once"


class BatchItemSerializer(EnvelopeSerializer):
    """One object of a batch: its identifier, a JSON Merge Patch, and optionally the ETag its
    document must still have."""

    id = StrictCharField(
        trim_whitespace=False,
        help_text="The object's identifier, as in its partner_metadata URL.",
    )
    metadata = DocumentField(
        error_messages={"required": MSG_METADATA_MISSING},
        help_text="A JSON Merge Patch (RFC 7396) of the object's document.",
    )
    if_match = StrictCharField(
        required=False,
        trim_whitespace=False,
        help_text="The document's ETag as read (or a list, as in If-Match); the batch is "
        "refused, and nothing written, when the document no longer has it.",
    )


class BatchSerializer(EnvelopeSerializer):
    """`{"data": [...]}`: 1 to 100 objects' patches, each object at most once."""

    data = serializers.ListField(
        child=BatchItemSerializer(),
        min_length=1,
        max_length=BATCH_MAX_ITEMS,
        help_text=f"1 to {BATCH_MAX_ITEMS} objects' patches, applied together or not at all.",
    )

    def validate_data(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        first: dict[str, int] = {}
        errors: dict[int, Any] = {}
        for index, item in enumerate(items):
            seen = first.setdefault(item["id"], index)
            if seen != index:
                message = MSG_DUPLICATE_ID.format(first=seen)
                errors[index] = {"id": [ErrorDetail(message, code="value_error.duplicate")]}
        if errors:
            raise ValidationError(errors)
        return items


class BatchResultSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The object's identifier, as in its partner_metadata URL.")
    metadata = DocumentField(help_text="The object's whole document, as stored.")
    etag = serializers.CharField(help_text="The document's ETag (send it back as if_match).")


class BatchResponseSerializer(serializers.Serializer):
    """A batch's answer: every object's document as stored, in the order of the request."""

    data = BatchResultSerializer(many=True)


class ReadManyQuerySerializer(serializers.Serializer):
    """The query of `GET /v1/{collection}/partner_metadata?id=A&id=B` (contract section 12)."""

    id = serializers.ListField(
        child=serializers.CharField(trim_whitespace=False), min_length=1, max_length=BATCH_MAX_ITEMS
    )


class ReadManySerializer(serializers.Serializer):
    """The readable objects among the ids asked for, in their order; the others omitted."""

    data = LookupItemSerializer(many=True)
