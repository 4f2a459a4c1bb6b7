"""Issuing and verifying the JWTs both doors accept (one authentication for REST and GraphQL).

Tokens are simplejwt's: HS256, `user_id` claim, 60-minute access and 7-day refresh lifetimes.
Verification of access tokens is stateless; whether the user is still active is the
permission's business, checked in the same query that resolves the object.

Refresh tokens are not stateless: each names the login it descends from (`login` claim, a
`metadata.models.Login` row), and only the newest token of a login is honoured. Refreshing
retires the token presented; presenting a retired one again is a replay (someone holds a
copy), so the whole login is revoked. Every token of a login expires when the login does
(7 days after the password was checked), and a login ends when its user's password changes
(its fingerprint, Django's session auth hash, no longer matches: this holds whatever path
changed the password, as it does for Django's own sessions) or when the user is
deactivated (`revoke_logins`, called on saving an inactive user, and an inactive user's
refresh is refused in any case).
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import authenticate
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from metadata import consistency, federation
from metadata.errors import ExpiredToken, InvalidCredentials, InvalidToken, NotAuthenticated
from metadata.models import APIKey, Login, PartnerClient, User
from metadata.models.clients import API_KEY_PREFIX_LENGTH, api_key_hash, api_key_prefix
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
API_KEY_ID_CLAIM = "api_key_id"


def access_token_for(
    user: User, *, client: PartnerClient | None = None, api_key: APIKey | None = None
) -> AccessToken:
    """An access token for `user`; for `client`'s own grant it also names the client, whose
    reach, not the user's, the token then has. A token earned with an API key (of that
    client) names the key too, so revoking the key ends the token at once."""
    token = AccessToken.for_user(user)
    token["email"] = user.email
    if client is not None:
        token[CLIENT_ID_CLAIM] = str(client.pk)
        if api_key is not None:
            token[API_KEY_ID_CLAIM] = str(api_key.pk)
    return token


LOGIN_CLAIM = "login"
MSG_REFRESH_INVALID = "The refresh token is invalid."
MSG_REFRESH_REVOKED = "The refresh token is no longer valid; log in again."
MSG_REFRESH_REUSED = (
    "The refresh token was already used; every token of this login is revoked. Log in again."
)


def issue_tokens(user: User) -> IssuedTokens:
    """A new login: its first refresh token, and an access token."""
    refresh = RefreshToken.for_user(user)
    now = timezone.now()
    # A user's expired logins go when they log in again: the table holds at most a week of
    # logins per user, with no job to run.
    Login.objects.filter(user=user, expires_at__lte=now).delete()
    login = Login.objects.create(
        user=user,
        current_jti=refresh[api_settings.JTI_CLAIM],
        password_fingerprint=user.get_session_auth_hash(),
        created_at=now,
        expires_at=datetime.fromtimestamp(refresh["exp"], tz=UTC),
    )
    refresh[LOGIN_CLAIM] = str(login.pk)
    return _tokens_for(user, refresh)


def _tokens_for(user: User, refresh: RefreshToken) -> IssuedTokens:
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
        # What is left of the login's lifetime, counted from the access token's `iat`
        # (`origIat`), so `origIat + refresh_expires_in` is the refresh token's `exp`.
        refresh_expires_in=int(refresh["exp"]) - int(access["iat"]),
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
        key = token.get(API_KEY_ID_CLAIM)
        api_key_id = None if key is None else uuid.UUID(str(key))
    except (KeyError, ValueError) as error:
        raise InvalidToken() from error
    if api_key_id is not None and client_id is None:
        raise InvalidToken()  # a key belongs to a client: never issued, so forged
    return Principal(user_id=user_id, client_id=client_id, api_key_id=api_key_id)


def principal_from_header(header: str | None) -> Principal:
    """The request's caller, for both doors; the caller's later reads may need to follow
    their own writes to the primary (`metadata.consistency`)."""
    principal = principal_from_token(raw_token_from_header(header))
    consistency.set_caller(principal.user_id)
    return principal


def refresh_tokens(raw_refresh: str) -> IssuedTokens:
    """The next tokens of a login, from its one live refresh token; a replay ends the login."""
    try:
        presented = RefreshToken(raw_refresh)
    except ExpiredTokenError as error:
        raise ExpiredToken("The refresh token has expired; log in again.") from error
    except TokenError as error:
        raise InvalidToken(MSG_REFRESH_INVALID) from error
    try:
        login_id = uuid.UUID(str(presented[LOGIN_CLAIM]))
        user_id = uuid.UUID(str(presented[api_settings.USER_ID_CLAIM]))
        jti = str(presented[api_settings.JTI_CLAIM])
    except (KeyError, ValueError) as error:  # e.g. a token from before logins were kept
        raise InvalidToken(MSG_REFRESH_INVALID) from error
    login = Login.objects.select_related("user").filter(pk=login_id, user_id=user_id).first()
    if login is None or login.revoked_at is not None or login.expires_at <= timezone.now():
        raise InvalidToken(MSG_REFRESH_REVOKED)
    user = login.user
    if not user.is_active or not constant_time_compare(
        login.password_fingerprint, user.get_session_auth_hash()
    ):
        revoke_login(login.pk)
        raise InvalidToken(MSG_REFRESH_REVOKED)

    refresh = RefreshToken.for_user(user)
    refresh[LOGIN_CLAIM] = str(login.pk)
    refresh["exp"] = int(login.expires_at.timestamp())  # the login's, not a fresh 7 days
    # The compare-and-swap that makes a token single-use: of two requests presenting the
    # same token, exactly one moves the login on; the other is a replay.
    moved_on = Login.objects.filter(pk=login.pk, current_jti=jti, revoked_at=None).update(
        current_jti=refresh[api_settings.JTI_CLAIM]
    )
    if not moved_on:
        revoke_login(login.pk)
        raise InvalidToken(MSG_REFRESH_REUSED)
    return _tokens_for(user, refresh)


def revoke_login(login_id: uuid.UUID) -> None:
    Login.objects.filter(pk=login_id, revoked_at=None).update(revoked_at=timezone.now())


def revoke_logins(user_id: uuid.UUID) -> int:
    """End every login of a user (deactivation): their refresh tokens are refused from now on."""
    return Login.objects.filter(user_id=user_id, revoked_at=None).update(revoked_at=timezone.now())


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
    users = User.objects.filter(pk=key, is_active=True, entities__partner_clients=client)
    user = users.distinct().first() if key else None
    if user is None:
        raise InvalidCredentials(
            "The entity_user_id is not a user of an entity this client serves."
        )
    return user


# A refused API key answers exactly as a wrong password does (`user_for_password`).
MSG_WRONG_PASSWORD = "The email address or password is not correct."
MAX_API_KEY_LENGTH = 200
_DUMMY_KEY_HASH = api_key_hash("no API key has this hash")


def _well_formed_key(raw: str) -> bool:
    """Printable ASCII of a key's length: only such a key's prefix is looked up (a NUL or a
    lone surrogate cannot even be sent to PostgreSQL)."""
    return (
        API_KEY_PREFIX_LENGTH < len(raw) <= MAX_API_KEY_LENGTH
        and raw.isascii()
        and raw.isprintable()
    )


def api_key_for(raw: str) -> APIKey:
    """The API key `raw` is (its client and the client's user loaded); records when it was
    last used.

    A wrong, malformed or revoked key, or one whose client's user is inactive, is refused
    with the wrong password's error. Whether the prefix names a key or not, the work is the
    same: one query by prefix (on its unique index) and one constant-time comparison of
    hashes (against a dummy hash when no row was found).
    """
    row = None
    if _well_formed_key(raw):
        row = (
            APIKey.objects.select_related("client__user").filter(prefix=api_key_prefix(raw)).first()
        )
    expected = row.key_hash if row is not None else _DUMMY_KEY_HASH
    matches = hmac.compare_digest(expected, api_key_hash(raw))
    if row is None or not matches or row.revoked_at is not None or not row.client.user.is_active:
        raise InvalidCredentials(MSG_WRONG_PASSWORD)
    APIKey.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row


def access_payload(access: AccessToken) -> dict[str, Any]:
    """`obtainKrakenToken`'s `payload`: the access token's claims, named as Kraken names
    them."""
    return {
        "sub": str(access[api_settings.USER_ID_CLAIM]),
        "email": access["email"],
        "exp": access["exp"],
        "origIat": access["iat"],
        "tokenType": "access",
    }
