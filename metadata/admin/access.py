"""Who may do what in the admin: asked of the core's one permission object, never of
Django's per-model flags (for the metadata pages), and no filtering on secrets."""

from __future__ import annotations

from typing import Any

from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest

from metadata.permissions import metadata_permission
from metadata.principals import Principal

PRINCIPAL_ATTRIBUTE = "metadata_admin_principal"


def principal_of(request: HttpRequest) -> Principal:
    """The request user's principal, made once per request (its flags come from Django perms)."""
    user = request.user
    cached = getattr(request, PRINCIPAL_ATTRIBUTE, None)
    if cached is None or cached.user_id != user.pk:
        cached = Principal.for_user(user)
        setattr(request, PRINCIPAL_ATTRIBUTE, cached)
    return cached


def may_view_metadata(request: HttpRequest) -> bool:
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return metadata_permission.may_view_any(principal_of(request))


def may_change_metadata(request: HttpRequest) -> bool:
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return metadata_permission.may_change_any(principal_of(request))


class ChangedByMetadataMutators:
    """Viewed by staff who may view any metadata, changed by those who may change any.

    The one permission object decides (`may_view_metadata` / `may_change_metadata`), never
    Django's per-model flags; for model admins and inlines alike.
    """

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_view_metadata(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_view_metadata(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_change_metadata(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_change_metadata(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_change_metadata(request)


class ReadOnlyForViewers:
    """Viewed by staff who may view any metadata; written by nobody through the admin."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_view_metadata(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_view_metadata(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


SECRET_FIELDS = frozenset({"secret", "previous_secret", "secret_hash"})


class RefusesSecretLookups:
    """No changelist filter through a secret-bearing field, as Django's `UserAdmin` refuses
    lookups on `password`: `?secret__startswith=` would answer "match" or "no match" and give
    a secret away by bisection. Any lookup path with such a field anywhere in it (also through
    a relation: `?subscription__secret__regex=`) gets Django's own refusal (400)."""

    def lookup_allowed(self, lookup: str, value: Any, request: HttpRequest) -> bool:
        if SECRET_FIELDS.intersection(lookup.split(LOOKUP_SEP)):
            return False
        return super().lookup_allowed(lookup, value, request)  # type: ignore[misc]
