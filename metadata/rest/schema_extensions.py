"""How drf-spectacular describes the REST door's own classes: its authentication, the
envelopes that take exactly their members, and the strict text field.

drf-spectacular registers an extension when its class is defined, so `metadata.rest.schema`
imports this module before any operation is described.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.openapi import AutoSchema

from metadata.rest.serializers import (
    BatchSerializer,
    EnvelopeSerializer,
    PartnerMetadataSerializer,
    StrictCharField,
)

SECURITY_SCHEME = "bearerAuth"

# Envelopes a PATCH view validates whole: drf-spectacular describes a PATCH body as partial
# (every member optional), which these are not. A webhook subscription's change is partial.
WHOLE_ON_PATCH: tuple[type[EnvelopeSerializer], ...] = (PartnerMetadataSerializer, BatchSerializer)


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
    422 `value_error.extra`). The envelopes of `WHOLE_ON_PATCH` require their members on
    PATCH too."""

    target_class = EnvelopeSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema: AutoSchema, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema = {**schema, "additionalProperties": False}
        target = self.target if isinstance(self.target, type) else type(self.target)
        if issubclass(target, WHOLE_ON_PATCH):
            fields = target().fields
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
