"""The metadata store in the admin: one row per key (`Metadata`), written through the
services (`metadata.admin.writes`), with forms that report the rules (`store_forms`)."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.db import connections, models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse

from metadata import batches, services
from metadata.admin import search
from metadata.admin.access import ChangedByMetadataMutators, principal_of
from metadata.admin.identifiers import (
    LinkedTypeFilter,
    content_types,
    history_url,
    identify,
    resolve_identifiers,
)
from metadata.admin.rows import IdentifiedRowsAdmin
from metadata.admin.store_forms import (
    MSG_OBJECT_GONE,
    DeleteKeyForm,
    MetadataAddForm,
    MetadataChangeForm,
)
from metadata.admin.values import json_block
from metadata.admin.writes import (
    linked_object_of,
    run_write,
    target_of_object,
    write_context,
    write_failed,
)
from metadata.linkables import Target, all_linkables
from metadata.models import Metadata
from metadata.permissions import Action, metadata_permission
from metadata.principals import Principal

WRITERS_SHOWN = 50


def distinct_values(model: type[models.Model], field_name: str, *, limit: int) -> list[Any]:
    """Up to `limit` distinct non-null values of an indexed column, smallest first.

    A walk down the column's index, one probe per value (a "loose index scan"), where
    `SELECT DISTINCT` would read the whole table: a sidebar of a few writers stays a few
    probes at a million rows.
    """
    using = model._default_manager.db
    quote = connections[using].ops.quote_name
    table = quote(model._meta.db_table)
    column = quote(model._meta.get_field(field_name).column)
    first = f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY {column} LIMIT 1"
    after = f"SELECT {column} FROM {table} WHERE {column} > walk.v ORDER BY {column} LIMIT 1"
    sql = (
        f"WITH RECURSIVE walk(v, n) AS (SELECT ({first}), 1"
        f" UNION ALL SELECT ({after}), walk.n + 1 FROM walk"
        f" WHERE walk.v IS NOT NULL AND walk.n < %s)"
        f" SELECT v FROM walk WHERE v IS NOT NULL"
    )
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [limit])
        return [row[0] for row in cursor.fetchall()]


class UpdatedByFilter(admin.SimpleListFilter):
    """Who last wrote the rows: the first writers found by index, never a scan of the table."""

    title = "updated by"
    parameter_name = "updated_by__id__exact"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        pks = distinct_values(Metadata, "updated_by", limit=WRITERS_SHOWN)
        users = Metadata._meta.get_field("updated_by").related_model._default_manager
        found = users.filter(pk__in=pks).order_by("email").values_list("pk", "email")
        return [(str(pk), email) for pk, email in found]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        value = self.value()
        if value is None:
            return queryset
        try:
            pk = uuid.UUID(value)
        except ValueError as error:
            raise IncorrectLookupParameters(f"updated_by: {value!r} is not a user id") from error
        return queryset.filter(updated_by_id=pk)


@admin.register(Metadata)
class MetadataAdmin(ChangedByMetadataMutators, IdentifiedRowsAdmin):
    actions = ("delete_key_from_objects",)
    list_display = (
        "linked_type",
        "identifier",
        "key",
        "value_pretty",
        "updated_at",
        "updated_by",
        "history",
    )
    list_display_links = ("key",)
    list_select_related = ("updated_by", "content_type")  # str(row) names the content type
    list_filter = (LinkedTypeFilter, UpdatedByFilter)
    ordering = ("content_type", "object_id", "key")
    # Only a column an index orders both ways is offered for sorting: any other sort reads
    # and sorts the whole table (migration 0010). Not "linked type": the default order
    # already groups rows by it and the type filter narrows to one, while its second click
    # (types descending, the rest of the order ascending) is an order no index has. With one
    # sortable column, no header offers a sort by two columns either.
    sortable_by = ("updated_at",)
    readonly_fields = (
        "linked_type",
        "identifier",
        "key",
        "value_pretty",
        "created_at",
        "updated_at",
        "updated_by",
        "history",
    )

    # Search, routed by what was typed (metadata.admin.search).

    search_help_text = search.HELP_TEXT

    def get_search_results(
        self, request: HttpRequest, queryset: models.QuerySet, search_term: str
    ) -> tuple[models.QuerySet, bool]:
        return search.search(queryset, search_term), False

    # Forms.

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [(None, {"fields": ("linked_type", "identifier", "key", "value")})]
        value = "value" if self.has_change_permission(request, obj) else "value_pretty"
        return [
            (None, {"fields": ("linked_type", "identifier", "key", value)}),
            ("Changes", {"fields": ("created_at", "updated_at", "updated_by", "history")}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        """The forms' `Meta.exclude` (the value, judged by the rules and stored by the
        service), named here because `get_form` picks the form per page and Django reads
        `Meta.exclude` only from `self.form`."""
        return ("value",)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        kwargs["form"] = MetadataChangeForm if obj is not None else MetadataAddForm
        form = super().get_form(request, obj, change=change, **kwargs)
        attrs: dict[str, Any] = {"principal": self._principal(request)}
        if obj is not None and self.has_change_permission(request, obj):
            attrs["editable"] = True
            try:
                attrs["target"] = self._target(request, obj, Action.WRITE)
            except Http404:
                attrs["target"] = None  # the linked object is gone: nothing to write to
        return type(form.__name__, (form,), attrs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        if initial.get("linked_type") not in {lk.name for lk in all_linkables()}:
            initial.pop("linked_type", None)
        return initial

    def _principal(self, request: HttpRequest) -> Principal:
        return principal_of(request)

    def _target(self, request: HttpRequest, row: Metadata, action: Action) -> Target:
        linkable, _ = identify(row)
        linked = linked_object_of(row, linkable)
        if linked is None:
            raise Http404(MSG_OBJECT_GONE)
        return target_of_object(request, linked, action)

    # Saving goes through the services.

    def save_model(self, request: HttpRequest, obj: Metadata, form: Any, change: bool) -> None:
        target: Target = form.target
        target = metadata_permission.check(self._principal(request), target, Action.WRITE)
        value = form.cleaned_data["value"]

        def write() -> None:
            services.set_key(
                target=target,
                key=obj.key,
                value=value,
                context=write_context(request),
                create_only=not change,
            )

        if not run_write(request, write):
            return
        if not change:  # the admin goes on (log, link, message) with the row the service made
            obj.pk = Metadata.objects.values_list("pk", flat=True).get(
                content_type=content_types()[target.linkable],
                object_id=target.object_id,
                key=obj.key,
            )
        obj.refresh_from_db()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing related to save: the row is written by the service."""

    def delete_model(self, request: HttpRequest, obj: Metadata) -> None:
        target = self._target(request, obj, Action.WRITE)
        run_write(
            request,
            lambda: services.delete_key(target=target, key=obj.key, context=write_context(request)),
        )

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        """Django's "delete selected": one `services.edit_document` per object (the keys of
        its selected rows removed in one write, as a PATCH would), all in one transaction."""
        rows = list(queryset)
        resolve_identifiers(rows)
        removed: dict[tuple[str, str], tuple[Target, list[str]]] = {}
        for row in rows:
            target = self._target(request, row, Action.WRITE)
            identity = (target.linkable.name, target.object_id)
            removed.setdefault(identity, (target, []))[1].append(row.key)

        def write() -> None:
            for target, keys in removed.values():
                services.edit_document(
                    target=target, changes={}, removed=keys, context=write_context(request)
                )

        run_write(request, write)

    @admin.action(
        description="Delete a key from the objects of the selected rows", permissions=["delete"]
    )
    def delete_key_from_objects(
        self, request: HttpRequest, queryset: models.QuerySet
    ) -> HttpResponse | None:
        """Ask for a key, then remove it from every object of the selected rows through
        `batches.delete_key_of_objects`: one transaction for all of them, so either every
        object loses the key or none does (and each object gets one audit entry and one
        change event, as from any door)."""
        rows = list(queryset)
        keys = sorted({row.key for row in rows})
        form = DeleteKeyForm(
            request.POST if "apply" in request.POST else None,
            initial={"key": keys[0] if len(keys) == 1 else ""},
        )
        if form.is_valid():
            resolve_identifiers(rows)
            targets = list(
                {
                    (t.linkable.name, t.object_id): t
                    for t in (self._target(request, row, Action.WRITE) for row in rows)
                }.values()
            )
            key = form.cleaned_data["key"]
            removed: list[Any] = []

            def write() -> None:
                removed.extend(
                    batches.delete_key_of_objects(
                        targets=targets, key=key, context=write_context(request)
                    )
                )

            if run_write(request, write):
                count = sum(entry is not None for entry in removed)
                self.message_user(
                    request,
                    f"Removed {key!r} from {count} of {len(targets)} object(s).",
                    messages.SUCCESS,
                )
            return None
        return TemplateResponse(
            request,
            "admin/metadata/metadata/delete_key.html",
            {
                **self.admin_site.each_context(request),
                "title": "Delete a key from the objects of the selected rows",
                "opts": self.model._meta,
                "form": form,
                "rows": rows,
                "objects": len({(row.content_type_id, row.object_id) for row in rows}),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return None if write_failed(request) else super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return None if write_failed(request) else super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        return None if write_failed(request) else super().log_deletions(request, queryset)

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None) -> Any:
        if write_failed(request):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        if write_failed(request):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_change(request, obj)

    # Display.

    @admin.display(description="value")
    def value_pretty(self, row: Metadata) -> str:
        return json_block(row.value)

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        """The key's history is the audit trail of every door, not the admin's own log."""
        row = self.get_object(request, object_id)
        if row is None or not self.has_view_permission(request, row):
            return super().history_view(request, object_id, extra_context)
        linkable, _ = identify(row)
        return HttpResponseRedirect(
            history_url(linkable=linkable, object_id=row.object_id, key=row.key)
        )
