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

MSG_NOT_OBJECT = "the body must be a JSON object, not {kind}"
MSG_EXTRA = "unexpected member; the body takes only {allowed}"
# DRF formats field messages with str.format: braces are doubled.
MSG_METADATA_MISSING = 'the member "metadata" is required, e.g. {{"metadata": {{}}}}'

DOCUMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": True,
    "description": (
        "Keys map to any JSON value. Keys are 1 to "
        f"{rules.MAX_KEY_LENGTH} characters, not only white space, without control characters; "
        f"values nest at most {rules.MAX_DEPTH} levels; the whole document, as compact UTF-8 "
        f"JSON with sorted keys, is at most {rules.MAX_DOCUMENT_BYTES} bytes."
    ),
    "example": {"external_id": "id_6c8f1262fdbc", "comment": ""},
}


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
GRANT_FIELDS: Mapping[str, tuple[str, ...]] = {
    GRANT_CLIENT_CREDENTIALS: ("client_id", "client_secret"),
    GRANT_ENTITY_USER: ("client_id", "client_secret", "entity_user_id"),
    GRANT_PASSWORD: ("email", "password"),
}
MSG_GRANT_MISSING = (
    "grant_type is required: client_credentials, entity_user or password "
    "(it may be omitted only when email and password are sent)"
)
MSG_GRANT_FIELD_MISSING = 'the member "{field}" is required for grant_type {grant}'


def _secret(max_length: int) -> serializers.CharField:
    return serializers.CharField(required=False, trim_whitespace=False, max_length=max_length)


class TokenGrantSerializer(serializers.Serializer):
    """`POST /v1/auth/token`, Monite's form; which members are required depends on the grant.

    Unknown members are ignored, as OAuth servers do.
    """

    grant_type = serializers.ChoiceField(
        choices=list(GRANT_FIELDS),
        required=False,
        help_text="client_credentials, entity_user or password (password when omitted).",
    )
    client_id = serializers.CharField(required=False, max_length=64)
    client_secret = _secret(256)
    entity_user_id = serializers.CharField(required=False, max_length=64)
    email = serializers.CharField(required=False, max_length=254)
    password = _secret(256)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        return False, data

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            message = MSG_NOT_OBJECT.format(kind=json_kind(data))
            raise ValidationError({"body": [ErrorDetail(message, code="type_error.dict")]})
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        grant = attrs.get("grant_type")
        if grant is None:
            if "email" not in attrs or "password" not in attrs:
                raise ValidationError(
                    {"grant_type": [ErrorDetail(MSG_GRANT_MISSING, code="required")]}
                )
            grant = attrs["grant_type"] = GRANT_PASSWORD
        missing = [field for field in GRANT_FIELDS[grant] if field not in attrs]
        if missing:
            raise ValidationError(
                {
                    field: [
                        ErrorDetail(
                            MSG_GRANT_FIELD_MISSING.format(field=field, grant=grant),
                            code="required",
                        )
                    ]
                    for field in missing
                }
            )
        return attrs


class TokenResponseSerializer(serializers.Serializer):
    access_token = serializers.CharField(help_text="A JWT; send it as 'Authorization: Bearer …'.")
    token_type = serializers.ChoiceField(choices=["Bearer"])
    expires_in = serializers.IntegerField(help_text="Seconds the access token stays valid.")
