"""Issuing and verifying the JWTs both doors accept (one authentication for REST and GraphQL).

Tokens are simplejwt's: HS256, `user_id` claim, 60-minute access and 7-day refresh lifetimes.
Verification is stateless; whether the user is still active is the permission's business,
checked in the same query that resolves the object.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import authenticate
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from metadata import federation
from metadata.errors import ExpiredToken, InvalidCredentials, InvalidToken, NotAuthenticated
from metadata.models import PartnerClient, User
from metadata.principals import Principal

HEADER_TYPES = ("bearer", "jwt")
_DUMMY_SECRET_HASH = "pbkdf2_sha256$1000000$timing$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


@dataclass(frozen=True)
class IssuedTokens:
    access: str
    refresh: str
    access_expires_in: int
    refresh_expires_in: int
    payload: dict[str, Any]


def _lifetime_seconds(token_class: type[AccessToken] | type[RefreshToken]) -> int:
    return int(token_class.lifetime.total_seconds())


CLIENT_ID_CLAIM = "client_id"


def access_token_for(user: User, *, client: PartnerClient | None = None) -> AccessToken:
    """An access token for `user`; for `client`'s own grant it also names the client, whose
    reach, not the user's, the token then has."""
    token = AccessToken.for_user(user)
    token["email"] = user.email
    if client is not None:
        token[CLIENT_ID_CLAIM] = str(client.pk)
    return token


def issue_tokens(user: User) -> IssuedTokens:
    refresh = RefreshToken.for_user(user)
    access = access_token_for(user)
    payload = {
        "sub": str(user.pk),
        "email": user.email,
        "exp": access["exp"],
        "origIat": access["iat"],
        "tokenType": "access",
    }
    return IssuedTokens(
        access=str(access),
        refresh=str(refresh),
        access_expires_in=_lifetime_seconds(AccessToken),
        refresh_expires_in=_lifetime_seconds(RefreshToken),
        payload=payload,
    )


def raw_token_from_header(header: str | None) -> str:
    """`Bearer <token>`, `JWT <token>`, or a bare token, as Kraken's guides show."""
    if header is None or not header.strip():
        raise NotAuthenticated()
    parts = header.split()
    if len(parts) == 2 and parts[0].lower() in HEADER_TYPES:
        return parts[1]
    if len(parts) == 1 and parts[0].lower() not in HEADER_TYPES:
        return parts[0]
    raise InvalidToken("The Authorization header must be 'Bearer <token>' or 'JWT <token>'.")


def principal_from_token(raw: str) -> Principal:
    """The caller a token names: a gateway token (HS256), or, when federation is configured,
    a token of the platform's identity provider (`metadata.federation`)."""
    issuer = federation.is_federated(raw)
    if issuer is not None:
        return federation.principal_from_federated_token(raw, issuer)
    try:
        token = AccessToken(raw)
    except ExpiredTokenError as error:
        raise ExpiredToken() from error
    except TokenError as error:
        raise InvalidToken() from error
    try:
        user_id = uuid.UUID(str(token[api_settings.USER_ID_CLAIM]))
        client = token.get(CLIENT_ID_CLAIM)
        client_id = None if client is None else uuid.UUID(str(client))
    except (KeyError, ValueError) as error:
        raise InvalidToken() from error
    return Principal(user_id=user_id, client_id=client_id)


def principal_from_header(header: str | None) -> Principal:
    return principal_from_token(raw_token_from_header(header))


def refresh_tokens(raw_refresh: str) -> IssuedTokens:
    """New tokens from a refresh token, for a user who is still active."""
    try:
        refresh = RefreshToken(raw_refresh)
    except ExpiredTokenError as error:
        raise ExpiredToken("The refresh token has expired; log in again.") from error
    except TokenError as error:
        raise InvalidToken("The refresh token is invalid.") from error
    user = User.objects.filter(pk=refresh.get(api_settings.USER_ID_CLAIM), is_active=True).first()
    if user is None:
        raise InvalidToken("The refresh token is invalid.")
    return issue_tokens(user)


def user_for_password(email: str, password: str) -> User:
    user = authenticate(email=email, password=password)
    if user is None:
        raise InvalidCredentials("The email address or password is not correct.")
    return user


def client_for_credentials(client_id: str, client_secret: str) -> PartnerClient:
    try:
        key = uuid.UUID(str(client_id))
    except ValueError:
        key = None
    client = PartnerClient.objects.select_related("user").filter(pk=key).first() if key else None
    if client is None:
        # Hash anyway, so an unknown client id takes as long to refuse as a wrong secret.
        PartnerClient(secret_hash=_DUMMY_SECRET_HASH).check_secret(str(client_secret))
        raise InvalidCredentials("The client_id or client_secret is not correct.")
    if not client.check_secret(str(client_secret)) or not client.user.is_active:
        raise InvalidCredentials("The client_id or client_secret is not correct.")
    return client


def entity_user_for(client: PartnerClient, entity_user_id: str) -> User:
    """The entity user a partner's client acts as (`entity_user` grant)."""
    try:
        key = uuid.UUID(str(entity_user_id))
    except ValueError:
        key = None
    user = (
        User.objects.filter(pk=key, is_active=True, entities__isnull=False).distinct().first()
        if key
        else None
    )
    if user is None:
        raise InvalidCredentials("The entity_user_id is not a user of any entity.")
    return user
