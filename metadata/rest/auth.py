"""`POST /v1/auth/token`: Monite's token endpoint, over the core's credential checks.

The three grants map to `metadata.tokens`: `client_credentials` acts for the partner
client's user with the client's reach (the entities it serves), `entity_user` as one user of
an entity the client serves (the client's credentials checked first), `password` as a
person. Every refusal of credentials is the core's
`InvalidCredentials` (401); a malformed request is a 422 from the grant's serializer.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.tokens import AccessToken

from metadata import tokens
from metadata.errors import NotJSON
from metadata.rest.base import GatewayAPIView
from metadata.rest.parsers import StrictJSONParser
from metadata.rest.schema import TokenSchema
from metadata.rest.serializers import (
    GRANT_CLIENT_CREDENTIALS,
    GRANT_ENTITY_USER,
    GRANT_PASSWORD,
    grant_serializer_for,
)
from metadata.rest.throttling import AddressRateThrottle

TOKEN_TYPE = "Bearer"
MSG_EMPTY_BODY = (
    "The body is empty (a body is read only when sent with a Content-Length header); "
    'send a JSON object such as {"grant_type": "client_credentials", '
    '"client_id": "...", "client_secret": "..."}.'
)


def token_for_grant(grant: dict[str, Any]) -> AccessToken:
    """The access token a valid token request earns; `InvalidCredentials` otherwise.

    A `client_credentials` token names its client (it has the client's reach); an
    `entity_user` token is the entity user's own.
    """
    kind = grant.get("grant_type", GRANT_PASSWORD)
    if kind in (GRANT_CLIENT_CREDENTIALS, GRANT_ENTITY_USER):
        client = tokens.client_for_credentials(grant["client_id"], grant["client_secret"])
        if kind == GRANT_CLIENT_CREDENTIALS:
            return tokens.access_token_for(client.user, client=client)
        return tokens.access_token_for(tokens.entity_user_for(client, grant["entity_user_id"]))
    return tokens.access_token_for(tokens.user_for_password(grant["email"], grant["password"]))


class TokenView(GatewayAPIView):
    """Exchange credentials for a 60-minute access token. Public: it is how callers log in."""

    authentication_classes = ()  # a stale Authorization header must not block a new login
    permission_classes = ()
    parser_classes = (StrictJSONParser,)
    throttle_classes = (AddressRateThrottle,)  # each attempt costs a password hash
    http_method_names = ("post",)
    schema = TokenSchema()

    def post(self, request: Request) -> Response:
        if request.stream is None:
            raise NotJSON(MSG_EMPTY_BODY)
        grant = grant_serializer_for(request.data)
        grant.is_valid(raise_exception=True)
        token = token_for_grant(grant.validated_data)
        return Response(
            {
                "access_token": str(token),
                "token_type": TOKEN_TYPE,
                "expires_in": int(AccessToken.lifetime.total_seconds()),
            },
            headers={"Cache-Control": "no-store"},
        )
