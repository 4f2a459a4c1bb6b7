"""API keys of partner clients in the admin: created here (the key shown once), listed by
prefix, revoked by an action.

Operators' credentials, not metadata: Django's own model permissions decide who sees this
page (superusers, or staff granted the API key permissions), as for partner clients. The
key's hash is never shown, and no query string may filter on it (`lookup_allowed`, as
Django's `UserAdmin` does for passwords): a filter that answers "matches or not" would let
a viewer recover a hash piece by piece.

The new key reaches its creator once, in the success message of the add page: Django's
message storage carries it (signed) to the next page of that browser only, then drops it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from metadata.models import APIKey

SHOWN = ("client", "prefix", "created_at", "last_used_at", "revoked_at")


class APIKeyCreationForm(forms.ModelForm):
    """Only the client is chosen: the key is drawn by the server."""

    class Meta:
        model = APIKey
        fields = ("client",)


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    form = APIKeyCreationForm
    list_display = ("prefix", "client", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("client",)
    list_filter = ("client", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("prefix", "client__name")
    raw_id_fields = ("client",)
    actions = ("revoke",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("client",) if obj is None else SHOWN

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else SHOWN

    def lookup_allowed(self, lookup: str, value: Any, request: HttpRequest | None = None) -> bool:
        if lookup.startswith("key_hash"):
            return False
        return super().lookup_allowed(lookup, value, request)

    def save_model(self, request: HttpRequest, obj: APIKey, form: Any, change: bool) -> None:
        if change:  # nothing of a key changes once made
            return
        raw = obj.issue()
        self.message_user(
            request,
            format_html(
                "The new API key of {} is <code>{}</code>. Copy it now: it is shown only this "
                "once (only its prefix, {}, and a hash of it are kept).",
                obj.client,
                raw,
                obj.prefix,
            ),
            messages.SUCCESS,
        )

    @admin.action(description="Revoke the selected API keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[APIKey]) -> None:
        revoked = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {revoked} API key(s).", messages.SUCCESS)
