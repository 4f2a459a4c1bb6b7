"""A partner's integration credentials: the REST `client_credentials` grants and API keys.

A partner client is a tenant (contract section 11): its tokens reach the entities it
serves and nothing else, whatever its user may do on its own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, models, transaction


class ClientKind(models.TextChoices):
    """What a client's `client_credentials` token is for.

    A partner client reads and writes metadata; a provisioning client feeds the linkable
    objects from the platform's system of record (`POST /v1/provisioning/objects`) and reaches
    no metadata.
    """

    PARTNER = "partner", "Partner (metadata)"
    PROVISIONING = "provisioning", "Provisioning (objects from the system of record)"


class PartnerClient(models.Model):
    """Client id and hashed secret; tokens issued for it act for `user` with the reach of
    `entities`, never with the user's own permissions.

    Only the hash is stored, like a password, so a database dump leaks no usable secret.
    """

    client_id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    secret_hash = models.CharField(max_length=256)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_clients"
    )
    name = models.CharField(max_length=200, blank=True)
    entities = models.ManyToManyField(
        "metadata.Entity",
        related_name="partner_clients",
        blank=True,
        help_text="The entities this client serves: its tokens reach these entities, their "
        "counterparts and payables, and nothing else.",
    )
    kind = models.CharField(
        max_length=16,
        choices=ClientKind.choices,
        default=ClientKind.PARTNER,
        help_text="Provisioning clients may call POST /v1/provisioning/objects and nothing else.",
    )

    def __str__(self) -> str:
        return self.name or str(self.client_id)

    @property
    def is_provisioning(self) -> bool:
        return self.kind == ClientKind.PROVISIONING

    def set_secret(self, secret: str) -> None:
        self.secret_hash = make_password(secret)

    def check_secret(self, secret: str) -> bool:
        return check_password(secret, self.secret_hash)


API_KEY_PREFIX_LENGTH = 12
_GENERATED_KEY_MARK = "mgk_"  # so a leaked key is recognisable in logs and secret scanners


def api_key_prefix(raw: str) -> str:
    """The public part of a key that finds its row: its first characters."""
    return raw[:API_KEY_PREFIX_LENGTH]


def api_key_hash(raw: str) -> str:
    """SHA-256 of the whole key, as hex.

    A fast hash is enough here, where a password needs a slow one: a generated key carries
    256 random bits, so no guessing or dictionary attack can reverse its hash, and checking
    one costs the same time whether the prefix exists or not. It is not keyed with
    `SECRET_KEY` so that rotating that key does not invalidate every API key.
    """
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def generate_api_key() -> str:
    """A new key: a recognisable mark and 32 random bytes (URL-safe, 47 characters)."""
    return _GENERATED_KEY_MARK + secrets.token_urlsafe(32)


class APIKey(models.Model):
    """A long-lived credential of a partner client, for Kraken's
    `obtainKrakenToken(input: {APIKey})`: it earns tokens with the client's reach.

    The key itself is shown once, when created; only its `prefix` (to find the row and to
    tell keys apart) and its hash are stored.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(PartnerClient, on_delete=models.CASCADE, related_name="api_keys")
    prefix = models.CharField(max_length=API_KEY_PREFIX_LENGTH, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = "API key"
        verbose_name_plural = "API keys"

    def __str__(self) -> str:
        return f"{self.prefix}…"

    def set_key(self, raw: str) -> None:
        self.prefix = api_key_prefix(raw)
        self.key_hash = api_key_hash(raw)

    def issue(self, attempts: int = 3) -> str:
        """Give this new key (its client set) a fresh secret and save it; return the secret,
        which is stored nowhere, so the caller shows it once.

        Two generated prefixes collide once in about 2**24 keys of one database; the unique
        index refuses the second, and another key is drawn.
        """
        for attempt in range(attempts):
            raw = generate_api_key()
            self.set_key(raw)
            try:
                with transaction.atomic():
                    self.save(force_insert=True)
            except IntegrityError:
                if attempt == attempts - 1:
                    raise
                continue
            return raw
        raise AssertionError("unreachable")

    def matches(self, raw: str) -> bool:
        return hmac.compare_digest(self.key_hash, api_key_hash(raw))
