"""Linked objects as the admin shows them: linked types, identifiers, and history links.

A changelist of a million rows names each row's object; `resolve_identifiers` does it with
one query per linked type, whatever the number of rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlencode

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from metadata.linkables import Linkable, all_linkables, for_model
from metadata.models import MetadataChange

EMPTY = "-"


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
