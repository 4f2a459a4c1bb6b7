"""Logins that refresh tokens descend from (contract section 11, "Tokens").

One row per login (a password or API-key login through `obtainKrakenToken`), not one per
token: a login's refresh tokens form a chain in which only the newest is live, so the row
keeps that token's id (`current_jti`). Refreshing swaps it for the next one in a single
conditional UPDATE, which is what makes a refresh token single-use on every database
without locks; a token whose id is no longer current is a replay, and revokes the row,
which is every token of that login at once.

Why not simplejwt's `token_blacklist` app: it keeps one row per issued token, with the
token's full text (a database dump would hand out live refresh tokens), and it has no notion
of the login a token descends from, so reuse detection could only revoke one token or all
of a user's sessions. This table stores no token, only ids, and revokes exactly one login.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Login(models.Model):
    """One login's refresh tokens: which one is live, until when, and on which password."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="logins"
    )
    current_jti = models.CharField(
        max_length=64, help_text="The id (jti) of the one refresh token of this login still live."
    )
    password_fingerprint = models.CharField(
        max_length=128,
        help_text="The user's session auth hash at login: a different one means the password "
        "changed since, and the login's tokens are no longer honoured.",
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(help_text="Every refresh token of the login expires then.")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "expires_at"], name="login_user_expiry")]

    def __str__(self) -> str:
        return f"login {self.pk} of {self.user_id}"
