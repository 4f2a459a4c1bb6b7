"""DRF's face of the one header authentication (`metadata.tokens`), shared with GraphQL."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication

from metadata.principals import Principal
from metadata.tokens import principal_from_header

WWW_AUTHENTICATE = 'Bearer realm="metadata-gateway"'


class HeaderTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <jwt>`, `JWT <jwt>` or a bare token; no header means anonymous."""

    def authenticate(self, request: Any) -> tuple[Principal, None] | None:
        header = request.headers.get("Authorization")
        if header is None:
            return None
        return principal_from_header(header), None

    def authenticate_header(self, request: Any) -> str:
        return WWW_AUTHENTICATE
