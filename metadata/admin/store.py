"""The metadata store in the admin: rows per key (`Metadata`) and their history."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.db import connections, models, router
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext

from metadata import batches, services
from metadata.admin import search
from metadata.admin.common import (
    EMPTY,
    ChangedByMetadataMutators,
    LinkedTypeFilter,
    ReadOnlyForViewers,
    ReversedOnce,
    RulesValidateValues,
    StrictJSONFormField,
    change_viewname,
    document_error,
    history_link,
    history_url,
    identifier_condition,
    identifier_link,
    identify,
    json_block,
    key_errors,
    linkable_named,
    principal_of,
    resolve_identifiers,
)
from metadata.admin.paging import EstimatingPaginator, narrowed
from metadata.admin.writes import (
    linked_object_of,
    run_write,
    target_of_object,
    write_context,
    write_failed,
)
from metadata.errors import NotFound, PermissionDenied
from metadata.linkables import Target, all_linkables
from metadata.models import Metadata, MetadataChange
from metadata.permissions import Action, metadata_permission
from metadata.principals import Principal
from metadata.rules import MAX_KEY_LENGTH
from metadata.selectors import content_type_for, find_target, get_document

MSG_OBJECT_GONE = "The object this metadata was linked to no longer exists."


class IdentifiedChangeList(ChangeList):
    """A changelist that names every row's linked object with a bounded number of queries."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        resolve_identifiers(self.result_list)
        self._urls = ReversedOnce()

    def url_for_result(self, result: Any) -> str:
        """Django's link to a row's page, with the view reversed once per page."""
        url = self._urls.url(change_viewname(self.model), quote(result.pk))
        return url if url is not None else super().url_for_result(result)


def search_terms(search_term: str) -> list[str]:
    terms = []
    for bit in smart_split(search_term):
        if bit.startswith(('"', "'")) and bit[0] == bit[-1] and len(bit) > 1:
            bit = unescape_string_literal(bit)
        if bit.strip():
            terms.append(bit)
    return terms


class IdentifiedRowsAdmin(admin.ModelAdmin):
    """Shared by both store admins: linked type and identifier columns, search, history links.

    Both tables grow to millions of rows, so no page counts a whole table (`paging`), and the
    sidebar's filters offer no per-choice counts (each would count the table again).
    """

    list_per_page = 100
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    search_help_text = "Search by key, by identifier (account number, email, UUID, id) or by value."
    search_fields = ("key",)  # shows the search box; the search itself is get_search_results

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return IdentifiedChangeList

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        """Every query of the list runs here (the rows are fetched to name their objects)."""
        with search.planned_for_their_values(router.db_for_read(self.model)):
            return super().changelist_view(request, extra_context)

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: models.QuerySet,
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> EstimatingPaginator:
        return EstimatingPaginator(
            queryset,
            per_page,
            narrowed=narrowed(request),
            orphans=orphans,
            allow_empty_first_page=allow_empty_first_page,
        )

    def term_condition(self, term: str) -> Q:
        return Q(key__icontains=term) | identifier_condition(term)

    def get_search_results(
        self, request: HttpRequest, queryset: models.QuerySet, search_term: str
    ) -> tuple[models.QuerySet, bool]:
        for term in search_terms(search_term):
            queryset = queryset.filter(self.term_condition(term))
        return queryset, False

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))
    def action_checkbox(self, obj: Any) -> str:
        """Django's checkbox, written directly: rendering a widget template per row was a large
        share of a 100-row page."""
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            label,
        )

    @admin.display(description="linked type", ordering="content_type")
    def linked_type(self, row: Any) -> str:
        linkable, _ = identify(row)
        return linkable.name if linkable else EMPTY

    @admin.display(description="identifier", ordering="object_id")
    def identifier(self, row: Any) -> str:
        return identifier_link(row)

    @admin.display(description="history")
    def history(self, row: Any) -> str:
        return history_link(row)


# Metadata rows ----------------------------------------------------------------------------

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


class MetadataKeyField(forms.CharField):
    """Keys are taken as typed (white space is part of a key) and checked by the rules."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_KEY_LENGTH)
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        errors = key_errors(value)
        if errors:
            raise forms.ValidationError(errors)


class MetadataAddForm(RulesValidateValues, forms.ModelForm):
    """A new key on an object named by linked type and identifier."""

    principal: Principal

    linked_type = forms.ChoiceField(
        label="Linked type",
        choices=[("", "---------"), *((lk.name, lk.name) for lk in all_linkables())],
    )
    identifier = forms.CharField(
        max_length=254,
        help_text="Account number (A-154321), email, id of a property, or UUID.",
    )
    key = MetadataKeyField()
    value = StrictJSONFormField()

    class Meta:
        model = Metadata
        fields = ("key", "value")

    field_order = ("linked_type", "identifier", "key", "value")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        linkable = linkable_named(cleaned.get("linked_type") or "")
        identifier = cleaned.get("identifier")
        if linkable is None or not identifier:
            return cleaned
        target = find_target(linkable=linkable, identifier=identifier, principal=self.principal)
        try:
            metadata_permission.check(self.principal, target, Action.WRITE)
        except NotFound:
            self.add_error("identifier", f"There is no {linkable.name} with this identifier.")
            return cleaned
        except PermissionDenied as error:
            self.add_error(None, error.message)
            return cleaned
        self.target = target
        if "key" not in cleaned or "value" not in cleaned:
            return cleaned
        key = cleaned["key"]
        current = get_document(target=target)
        if key in current:
            self.add_error("key", "This object already has this key: change that row instead.")
            return cleaned
        for message in document_error({**current, key: cleaned["value"]}):
            self.add_error("value", message)
        return cleaned


class MetadataChangeForm(RulesValidateValues, forms.ModelForm):
    """A new value for an existing key; the whole document is checked, as every door does."""

    principal: Principal
    target: Target | None = None  # set by the admin for callers who may change the row
    editable: bool = False

    value = StrictJSONFormField()

    class Meta:
        model = Metadata
        fields = ("value",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.editable and self.target is None:
            self.fields["value"].disabled = True
            self.fields["value"].help_text = MSG_OBJECT_GONE

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.target is None:
            raise forms.ValidationError(MSG_OBJECT_GONE)
        if "value" not in cleaned:
            return cleaned
        current = get_document(target=self.target)
        for message in document_error({**current, self.instance.key: cleaned["value"]}):
            self.add_error("value", message)
        return cleaned


class DeleteKeyForm(forms.Form):
    """The key the `delete_key_from_objects` action removes from the selected rows' objects."""

    key = MetadataKeyField(
        help_text="Removed from every object of the selected rows that has it, in one "
        "transaction; objects without it are left as they are."
    )


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

        if run_write(request, write):
            stored = Metadata.objects.get(
                content_type=content_type_for(target.linkable),
                object_id=target.object_id,
                key=obj.key,
            )
            obj.__dict__.update(
                {f.attname: getattr(stored, f.attname) for f in Metadata._meta.concrete_fields}
            )
            obj._state.adding = False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing related to save: the row is written by the service."""

    def delete_model(self, request: HttpRequest, obj: Metadata) -> None:
        target = self._target(request, obj, Action.WRITE)
        run_write(
            request,
            lambda: services.delete_key(target=target, key=obj.key, context=write_context(request)),
        )

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        rows = list(queryset)
        resolve_identifiers(rows)
        targets = [(self._target(request, row, Action.WRITE), row.key) for row in rows]

        def write() -> None:
            for target, key in targets:
                services.delete_key(target=target, key=key, context=write_context(request))

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


# The audit trail -------------------------------------------------------------------------


@admin.register(MetadataChange)
class MetadataChangeAdmin(ReadOnlyForViewers, IdentifiedRowsAdmin):
    list_display = (
        "created_at",
        "linked_type",
        "identifier",
        "key",
        "action_label",
        "old_value_pretty",
        "new_value_pretty",
        "door",
        "actor",
    )
    list_display_links = ("created_at",)
    list_select_related = ("actor",)
    list_filter = ("door", LinkedTypeFilter)
    ordering = ("-created_at", "-id")
    date_hierarchy = None
    search_help_text = "Search by key or by identifier (account number, email, UUID, id)."
    fields = (*list_display, "request_id")
    readonly_fields = fields

    def get_list_display(self, request: HttpRequest) -> Any:
        if request.GET.get("object_id"):  # one object's history: the title names it
            return [c for c in self.list_display if c not in ("linked_type", "identifier")]
        return self.list_display

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        extra_context = dict(extra_context or {})
        object_id = request.GET.get("object_id")
        if object_id:
            linkable = linkable_named(request.GET.get("linked_type", ""))
            what = f"{linkable.name} {object_id}" if linkable else object_id
            key = request.GET.get("key")
            extra_context["title"] = (
                f"History of {what}, key “{key}”" if key is not None else f"History of {what}"
            )
        return super().changelist_view(request, extra_context)

    @admin.display(description="action")
    def action_label(self, change: MetadataChange) -> str:
        return change.action

    @admin.display(description="old value")
    def old_value_pretty(self, change: MetadataChange) -> str:
        return json_block(change.old_value, present=change.existed_before)

    @admin.display(description="new value")
    def new_value_pretty(self, change: MetadataChange) -> str:
        return json_block(change.new_value, present=change.exists_after)
