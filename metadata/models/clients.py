"""A partner's integration credentials for the REST `client_credentials` grants."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import models


class ClientKind(models.TextChoices):
    """What a client's `client_credentials` token is for.

    A partner client reads and writes metadata; a provisioning client feeds the linkable
    objects from the platform's system of record (`POST /v1/provisioning/objects`) and reaches
    no metadata.
    """

    PARTNER = "partner", "Partner (metadata)"
    PROVISIONING = "provisioning", "Provisioning (objects from the system of record)"


class PartnerClient(models.Model):
    """Client id and hashed secret; tokens issued for it act as `user`.

    Only the hash is stored, like a password, so a database dump leaks no usable secret.
    """

    client_id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    secret_hash = models.CharField(max_length=256)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_clients"
    )
    name = models.CharField(max_length=200, blank=True)
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
