"""`POST /v1/provisioning/objects`: the platform's system of record feeds the linkable objects.

The body is NDJSON, one object per line (contract section 13), applied by the core's importer
(`metadata.provisioning`); the answer is its summary. Only a provisioning client's
`client_credentials` token may call it: no token is 401, any other token 403.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response

from metadata import provisioning
from metadata.errors import BodyTooLarge, NotAuthenticated, TooManyLines
from metadata.middleware import request_id_of
from metadata.models import Door, WriteContext
from metadata.principals import Principal
from metadata.rest.base import GatewayAPIView
from metadata.rest.schema import ProvisioningSchema

NDJSON = "application/x-ndjson"
MSG_TOO_MANY_LINES = (
    "The body has {lines} lines; one request carries at most {limit}: split the import "
    "(or use manage.py import_objects)."
)
MSG_NO_LINES = "The body has no lines: send one JSON object per line."


class NDJSONParser(BaseParser):
    """`application/x-ndjson`: the body's lines, read at most one byte past the route's limit
    (the body size middleware refuses a larger declared length before this runs)."""

    media_type = NDJSON

    def parse(
        self,
        stream: IO[bytes] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> list[bytes]:
        body = stream.read(provisioning.MAX_REQUEST_BYTES + 1) if stream is not None else b""
        if len(body) > provisioning.MAX_REQUEST_BYTES:
            raise BodyTooLarge(provisioning.MAX_REQUEST_BYTES)
        return body.splitlines()  # blank lines kept, so failures name the body's line numbers


class ProvisioningView(GatewayAPIView):
    """Create, update or retire objects, each line alone; 200 with the summary."""

    permission_classes = ()
    parser_classes = (NDJSONParser,)
    http_method_names = ("post",)
    schema = ProvisioningSchema()
    unsupported_media_type_message = (
        f"Send the body as NDJSON (one JSON object per line), with 'Content-Type: {NDJSON}'."
    )

    def post(self, request: Request) -> Response:
        principal = request.user
        if not isinstance(principal, Principal):
            raise NotAuthenticated()
        provisioning.provisioning_client(principal)
        lines = request.data if request.stream is not None else []
        count = sum(1 for line in lines if line.strip()) if isinstance(lines, list) else 0
        if not count:
            raise TooManyLines(MSG_NO_LINES)
        if count > provisioning.MAX_REQUEST_LINES:
            raise TooManyLines(
                MSG_TOO_MANY_LINES.format(lines=count, limit=provisioning.MAX_REQUEST_LINES)
            )
        summary = provisioning.import_lines(
            lines,
            context=WriteContext(
                actor_id=principal.user_id,
                door=Door.PROVISIONING,
                request_id=request_id_of(request._request),
            ),
        )
        return Response(summary.as_dict(), headers={"Cache-Control": "no-store"})
