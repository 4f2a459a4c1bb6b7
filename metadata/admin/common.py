"""Pieces shared by the admin pages: the caller's principal, linked types, identifiers, JSON.

The admin decides nothing on its own: who may see or change metadata is asked of
`metadata_permission` (with `Principal.for_user`), and what a document may hold of
`metadata.rules`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlencode

from django import forms
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import CharField, Q
from django.db.models.constants import LOOKUP_SEP
from django.db.models.functions import Cast
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from metadata import rules
from metadata.errors import NotJSON, RuleViolation
from metadata.linkables import Linkable, all_linkables, for_model
from metadata.models import MetadataChange
from metadata.permissions import metadata_permission
from metadata.principals import Principal

EMPTY = "-"
VALUE_PLACEHOLDER = 'Any JSON value, for example "text", 42, true, null, [1, 2] or {"a": 1}'
MSG_VALUE_REQUIRED = "Enter a JSON value (null for an empty value)."


# Who is asking ----------------------------------------------------------------------------


def principal_of(request: HttpRequest) -> Principal:
    """The request user's principal, made once per request (its flags come from Django perms)."""
    user = request.user
    cached = getattr(request, "_metadata_principal", None)
    if cached is None or cached.user_id != user.pk:
        cached = Principal.for_user(user)
        request._metadata_principal = cached
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


# Linked types -----------------------------------------------------------------------------


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


def content_types() -> dict[Linkable, ContentType]:
    """Each registry entry's content type; Django caches them, so this is one query at most."""
    linkables = list(all_linkables())
    found = ContentType.objects.get_for_models(*(lk.model for lk in linkables))
    return {lk: found[lk.model] for lk in linkables}


def linkable_by_content_type_id() -> dict[int, Linkable]:
    return {ct.pk: lk for lk, ct in content_types().items()}


def linkable_named(name: str) -> Linkable | None:
    return next((lk for lk in all_linkables() if lk.name == name), None)


class LinkedTypeFilter(admin.SimpleListFilter):
    """Filter rows by the registry's linked type (ACCOUNT, COUNTERPART, ...)."""

    title = "linked type"
    parameter_name = "linked_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(lk.name, lk.name) for lk in all_linkables()]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        linkable = linkable_named(self.value() or "")
        if linkable is None:
            return queryset
        return queryset.filter(content_type=content_types()[linkable])


# Identifiers ------------------------------------------------------------------------------


def _pk_of(linkable: Linkable, object_id: str) -> Any:
    try:
        return linkable.model._meta.pk.to_python(object_id)
    except ValidationError:
        return None


URL_PLACEHOLDER = "METADATAOBJECTID"


class ReversedOnce:
    """Admin URLs for many rows, each view reversed once (`reverse` per row and per link was a
    large share of a 100-row page). Arguments are quoted as `reverse` quotes them."""

    def __init__(self) -> None:
        self._templates: dict[str, str | None] = {}

    def url(self, viewname: str, arg: Any) -> str | None:
        if viewname not in self._templates:
            try:
                self._templates[viewname] = reverse(viewname, args=[URL_PLACEHOLDER])
            except NoReverseMatch:
                self._templates[viewname] = None
        template = self._templates[viewname]
        if template is None:
            return None
        return template.replace(URL_PLACEHOLDER, quote(str(arg), safe="!$&'()*+,;=/~:@"))


def change_viewname(model: type[models.Model]) -> str:
    return f"admin:{model._meta.app_label}_{model._meta.model_name}_change"


def resolve_identifiers(rows: Iterable[Any]) -> None:
    """Give every row (Metadata or MetadataChange) `admin_linkable`, `admin_identifier`, and
    the URLs of its object's page and of its key's history.

    One query per linked type whose identifier is not the primary key (accounts by number,
    users by email), whatever the number of rows: the changelist stays free of N+1 queries.
    """
    rows = list(rows)
    urls = ReversedOnce()
    opts = MetadataChange._meta
    history_base = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    by_type = linkable_by_content_type_id()
    wanted: dict[Linkable, set[Any]] = defaultdict(set)
    for row in rows:
        linkable = by_type.get(row.content_type_id)
        row.admin_linkable = linkable
        row.admin_identifier = row.object_id
        row.admin_object_url = (
            urls.url(change_viewname(linkable.model), row.object_id) if linkable else None
        )
        row.admin_history_url = f"{history_base}?{history_query(linkable, row.object_id, row.key)}"
        if linkable is not None and linkable.identifier_field != "pk":
            pk = _pk_of(linkable, row.object_id)
            if pk is not None:
                wanted[linkable].add(pk)
    found: dict[tuple[Linkable, str], str] = {}
    for linkable, pks in wanted.items():
        pairs = linkable.model._default_manager.filter(pk__in=pks).values_list(
            "pk", linkable.identifier_field
        )
        found.update({(linkable, str(pk)): str(ident) for pk, ident in pairs})
    for row in rows:
        if row.admin_linkable is not None and row.admin_linkable.identifier_field != "pk":
            row.admin_identifier = found.get((row.admin_linkable, row.object_id))


def identify(row: Any) -> tuple[Linkable | None, str | None]:
    """A row's linked type and identifier, resolved in bulk when the changelist ran."""
    if not hasattr(row, "admin_identifier"):
        resolve_identifiers([row])
    return row.admin_linkable, row.admin_identifier


def identifier_link(row: Any) -> str:
    _, identifier = identify(row)
    if identifier is None:
        return format_html('<span class="metadata-missing">{} (missing)</span>', row.object_id)
    url = row.admin_object_url
    if url is None:
        return identifier
    return format_html('<a href="{}">{}</a>', url, identifier)


def _object_ids_matching(linkable: Linkable, term: str) -> Any:
    """The `object_id`s (text) of objects of one type whose identifier contains `term`."""
    matches = linkable.model._default_manager.filter(
        **{f"{linkable.identifier_field}__icontains": term}
    )
    pk_field = linkable.model._meta.pk
    if isinstance(pk_field, models.AutoField | models.BigAutoField | models.IntegerField) or (
        connection.vendor == "postgresql"
    ):
        # The database renders the key as Python's str() does: compare in SQL.
        return matches.annotate(admin_object_id=Cast("pk", CharField())).values("admin_object_id")
    # SQLite stores UUIDs without dashes: convert in Python.
    return [str(pk) for pk in matches.values_list("pk", flat=True)]


def identifier_condition(term: str) -> Q:
    """Rows whose linked object's identifier (number, email, UUID, id) contains `term`."""
    condition = Q(pk__in=[])
    for linkable, content_type in content_types().items():
        if linkable.identifier_field == "pk":
            match = Q(object_id__icontains=term)
        else:
            match = Q(object_id__in=_object_ids_matching(linkable, term))
        condition |= Q(content_type=content_type) & match
    return condition


def history_query(linkable: Linkable | None, object_id: str, key: str | None) -> str:
    params = {"object_id": object_id}
    if linkable is not None:
        params["linked_type"] = linkable.name
    if key is not None:
        params["key"] = key
    return urlencode(params)


def history_url(*, linkable: Linkable | None, object_id: str, key: str | None = None) -> str:
    """The audit trail filtered for one object (and one key)."""
    opts = MetadataChange._meta
    base = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{base}?{history_query(linkable, object_id, key)}"


def history_link(row: Any) -> str:
    """A link from a metadata row to its key's history (no query: the type is the content type)."""
    if row.pk is None:
        return EMPTY
    url = getattr(row, "admin_history_url", None)
    if url is None:
        linkable = linkable_by_content_type_id().get(row.content_type_id)
        url = history_url(linkable=linkable, object_id=row.object_id, key=row.key)
    return format_html('<a class="metadata-history-link" href="{}">history</a>', url)


def history_url_for_object(obj: models.Model) -> str | None:
    linkable = for_model(type(obj))
    if linkable is None or obj.pk is None:
        return None
    return history_url(linkable=linkable, object_id=str(obj.pk))


# JSON -------------------------------------------------------------------------------------


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def json_block(value: Any, *, present: bool = True) -> str:
    if not present:
        return format_html('<span class="metadata-absent">{}</span>', "(absent)")
    return format_html(
        '<pre class="metadata-json" style="margin:0;padding:0;white-space:pre;'
        'min-width:10em;max-width:32em;max-height:16em;overflow:auto">{}</pre>',
        pretty_json(value),
    )


def violation_messages(error: RuleViolation) -> list[str]:
    return [violation.msg for violation in error.violations]


class StrictJSONFormField(forms.Field):
    """A JSON value typed as text: strict (no NaN/Infinity), `null` allowed, value rules applied."""

    widget = forms.Textarea(
        attrs={"rows": 4, "cols": 60, "class": "vLargeTextField", "spellcheck": "false"}
    )
    default_error_messages = {"required": MSG_VALUE_REQUIRED}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", VALUE_PLACEHOLDER)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, _Raw):
            return value.text
        return pretty_json(value)

    def to_python(self, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValidationError(self.error_messages["required"], code="required")
        try:
            parsed = rules.parse_json(value, message=rules.MSG_VALUE_NOT_JSON)
        except NotJSON as error:
            raise ValidationError(error.message, code="not_json") from error
        except RuleViolation as error:
            raise ValidationError(violation_messages(error), code="invalid") from error
        found = rules.value_violations(parsed, ("value",))
        if found:
            raise ValidationError([violation.msg for violation in found], code="invalid")
        return parsed

    def validate(self, value: Any) -> None:
        """Emptiness is judged on the text in `to_python`; a parsed `null` is a value."""

    def bound_data(self, data: Any, initial: Any) -> Any:
        if self.disabled:
            return initial
        return _Raw(data if data is not None else "")

    def has_changed(self, initial: Any, data: Any) -> bool:
        if self.disabled:
            return False
        if isinstance(initial, _Raw):
            return (data or "").strip() != initial.text.strip()
        try:
            parsed = rules.parse_json(data)
        except (NotJSON, RuleViolation, TypeError):
            return True
        return rules.canonical_json(parsed) != rules.canonical_json(initial)


class _Raw(str):
    """Text shown as it is: what was submitted (when the form has errors), or nothing."""

    @property
    def text(self) -> str:
        return str(self)


NO_VALUE = _Raw("")  # the initial text of a new row's value


class RulesValidateValues:
    """For metadata model forms: `metadata.rules` judge the value, not the model field.

    The model field would call a stored `null` blank; the rules allow it.
    """

    def _get_validation_exclusions(self) -> Any:
        exclusions = super()._get_validation_exclusions()  # type: ignore[misc]
        exclusions.add("value")
        return exclusions


def key_errors(key: str) -> list[str]:
    return [violation.msg for violation in rules.key_violations(key, ("key",))]


def document_error(document: dict[str, Any]) -> list[str]:
    """The rule messages for a document as it would be, or [] when it is fine."""
    try:
        rules.check_document(document)
    except RuleViolation as error:
        return violation_messages(error)
    return []
