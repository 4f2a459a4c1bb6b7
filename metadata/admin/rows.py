"""The two store tables' changelists (metadata rows and their audit trail): each row names
its linked object, links to its history, and no page counts a table of millions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.db import models, router
from django.db.models import Q
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext

from metadata.admin import search
from metadata.admin.identifiers import (
    EMPTY,
    ReversedOnce,
    change_viewname,
    history_link,
    identifier_condition,
    identifier_link,
    identify,
    resolve_identifiers,
)
from metadata.admin.paging import EstimatingPaginator, narrowed


class IdentifiedChangeList(ChangeList):
    """A changelist that names every row's linked object with a bounded number of queries."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        resolve_identifiers(self.result_list)
        self._urls = ReversedOnce()

    def get_ordering_field(self, field_name: Any) -> Any:
        """Django sorts by any column a URL names (`sortable_by` only drops the header links):
        a column that is not offered is not sorted by, so a typed or old link cannot sort the
        whole table either."""
        if self.sortable_by is not None and field_name not in self.sortable_by:
            return None
        return super().get_ordering_field(field_name)

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
