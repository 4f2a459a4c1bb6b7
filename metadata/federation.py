"""Tokens from the platform's identity provider (contract section 14).

When `OIDC_ISSUER`, `OIDC_AUDIENCE` and `OIDC_JWKS_URL` are set, an access token signed by
that issuer (RS256 or ES256) is accepted by both doors beside the gateway's own HS256 tokens.
The key is chosen by the token's `kid` from the issuer's JWKS (PyJWT's `PyJWKClient`: the
set is cached, and an unknown `kid` refetches it at most once per
`OIDC_JWKS_MIN_REFETCH_SECONDS`, so tokens with made-up `kid`s cannot make the gateway
hammer the identity provider). `iss`, `aud`, `exp` and `nbf` are checked; the caller is
the active user whose email is the `email` claim (else `sub`), with exactly that user's reach
(an `email` the provider marks `email_verified: false` names nobody).

A JWKS endpoint that is down, slow (`OIDC_JWKS_TIMEOUT_SECONDS`) or answers garbage makes
the token invalid (401), never a hang or a 500; after a failed fetch the endpoint is left
alone for `OIDC_JWKS_RETRY_SECONDS`, so a dead endpoint does not cost every request a timeout.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt
from django.conf import settings
from jwt import PyJWKClient
from jwt.exceptions import (
    PyJWKClientConnectionError,
    PyJWKClientError,
    PyJWKError,
    PyJWKSetError,
)

from metadata.errors import ExpiredToken, InvalidToken
from metadata.models import User
from metadata.principals import Principal

ALGORITHMS = ("RS256", "ES256")
MSG_NO_USER = "The token names no active user of the gateway."
MSG_KEYS_UNAVAILABLE = "The token's signing key could not be obtained from its issuer."


@dataclass(frozen=True)
class Issuer:
    issuer: str
    audience: str
    jwks_url: str
    timeout: float
    min_refetch: float
    lifespan: float
    retry_after_failure: float
    leeway: float


def configured_issuer() -> Issuer | None:
    """The identity provider from the settings, or None when federation is off."""
    issuer = getattr(settings, "OIDC_ISSUER", "")
    audience = getattr(settings, "OIDC_AUDIENCE", "")
    jwks_url = getattr(settings, "OIDC_JWKS_URL", "")
    if not (issuer and audience and jwks_url):
        return None
    return Issuer(
        issuer=issuer,
        audience=audience,
        jwks_url=jwks_url,
        timeout=float(getattr(settings, "OIDC_JWKS_TIMEOUT_SECONDS", 3)),
        min_refetch=float(getattr(settings, "OIDC_JWKS_MIN_REFETCH_SECONDS", 60)),
        lifespan=float(getattr(settings, "OIDC_JWKS_LIFESPAN_SECONDS", 300)),
        retry_after_failure=float(getattr(settings, "OIDC_JWKS_RETRY_SECONDS", 10)),
        leeway=float(getattr(settings, "OIDC_LEEWAY_SECONDS", 0)),
    )


# A fetch that failed: unreachable or slow (PyJWKClientError and its connection error), not
# JSON (ValueError), no usable key (PyJWKSetError, PyJWKError), a connection cut mid-answer.
_FETCH_ERRORS = (PyJWKClientError, PyJWKSetError, PyJWKError, ValueError, OSError)


class _KeySet:
    """One issuer's JWKS client, with a pause after a failed fetch."""

    def __init__(self, issuer: Issuer) -> None:
        self.issuer = issuer
        self.client = PyJWKClient(
            issuer.jwks_url,
            cache_jwk_set=True,
            lifespan=issuer.lifespan,
            timeout=issuer.timeout,
            cooldown_duration=issuer.min_refetch,
        )
        self._failed_at: float | None = None
        self._lock = threading.Lock()

    def key(self, kid: str) -> Any:
        with self._lock:
            failed_at = self._failed_at
        if failed_at is not None and time.monotonic() - failed_at < self.issuer.retry_after_failure:
            raise InvalidToken(MSG_KEYS_UNAVAILABLE)
        try:
            keys = self.client.get_signing_keys()  # the cached set, fetched when it has none
        except _FETCH_ERRORS as error:
            self._failed()
            raise InvalidToken(MSG_KEYS_UNAVAILABLE) from error
        key = self.client.match_kid(keys, kid)
        if key is not None:
            return key
        try:
            # PyJWT refetches the set for an unknown kid, at most once per cooldown.
            return self.client.get_signing_key(kid)
        except (PyJWKClientConnectionError, *_FETCH_ERRORS[1:]) as error:
            self._failed()
            raise InvalidToken(MSG_KEYS_UNAVAILABLE) from error
        except PyJWKClientError as error:  # the set was read; this kid is not in it
            raise InvalidToken() from error

    def _failed(self) -> None:
        with self._lock:
            self._failed_at = time.monotonic()


_key_sets: dict[Issuer, _KeySet] = {}
_key_sets_lock = threading.Lock()


def _key_set(issuer: Issuer) -> _KeySet:
    with _key_sets_lock:
        if issuer not in _key_sets:
            _key_sets[issuer] = _KeySet(issuer)
        return _key_sets[issuer]


def forget_key_sets() -> None:
    """Drop every cached JWKS (tests; a process otherwise keeps them for their lifespan)."""
    with _key_sets_lock:
        _key_sets.clear()


def is_federated(raw: str) -> Issuer | None:
    """The issuer that must verify this token: federation is on and the token's header names
    an asymmetric algorithm. Anything else is left to the local verification (HS256 only)."""
    issuer = configured_issuer()
    if issuer is None:
        return None
    try:
        header = jwt.get_unverified_header(raw)
    except jwt.InvalidTokenError:
        return None
    return issuer if header.get("alg") in ALGORITHMS else None


def principal_from_federated_token(raw: str, issuer: Issuer) -> Principal:
    """Verify an identity provider's token; the principal of the user it names."""
    header = jwt.get_unverified_header(raw)
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("The token names no signing key (kid).")
    signing_key = _key_set(issuer).key(kid)
    algorithm = signing_key.algorithm_name
    if algorithm not in ALGORITHMS or header.get("alg") != algorithm:
        raise InvalidToken()
    try:
        claims = jwt.decode(
            raw,
            key=signing_key.key,
            algorithms=[algorithm],
            audience=issuer.audience,
            issuer=issuer.issuer,
            leeway=issuer.leeway,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise ExpiredToken() from error
    except jwt.InvalidTokenError as error:
        raise InvalidToken() from error
    if claims.get("email") and claims.get("email_verified") is False:
        # The provider says the address is not the user's own: it names nobody here.
        raise InvalidToken(MSG_NO_USER)
    name = claims.get("email") or claims.get("sub")
    if not isinstance(name, str) or not name:
        raise InvalidToken(MSG_NO_USER)
    user_id = User.objects.filter(email=name, is_active=True).values_list("pk", flat=True).first()
    if user_id is None:
        raise InvalidToken(MSG_NO_USER)
    return Principal(user_id=user_id)
