"""Counting a changelist without counting a big table (issue 22).

A full `COUNT(*)` of a million rows takes longer than everything else on the page. So:

- the whole table (no search, no filter) is counted exactly while PostgreSQL's planner
  estimates it below `METADATA_ADMIN_ESTIMATE_ABOVE` rows (10,000), and past that the page
  says "about N" with the planner's estimate (`reltuples` from `pg_class`, scaled to the
  table's current size as the planner scales it);
- a searched or filtered list is counted exactly up to `METADATA_ADMIN_COUNT_UP_TO` rows
  (1,000), by counting at most one row more; past that the page says "more than 1,000" and
  pages through the first 1,000 (narrow the search for the rest). An estimate would be wrong
  there: the planner guesses a search's selectivity.

SQLite (development) always counts exactly.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.admin.views.main import ERROR_FLAG, IGNORED_PARAMS, PAGE_VAR, SEARCH_VAR
from django.core.paginator import Paginator
from django.db import connections
from django.http import HttpRequest
from django.utils.formats import number_format
from django.utils.functional import cached_property

ESTIMATE_ABOVE = 10_000
COUNT_UP_TO = 1_000
NOT_NARROWING = {*IGNORED_PARAMS, PAGE_VAR, ERROR_FLAG}  # paging, ordering, pop-ups, ...


def estimate_above() -> int:
    return int(getattr(settings, "METADATA_ADMIN_ESTIMATE_ABOVE", ESTIMATE_ABOVE))


def count_up_to() -> int:
    return int(getattr(settings, "METADATA_ADMIN_COUNT_UP_TO", COUNT_UP_TO))


def narrowed(request: HttpRequest) -> bool:
    """Whether the changelist's URL searches or filters (anything but paging and ordering)."""
    if request.GET.get(SEARCH_VAR, "").strip():
        return True
    return any(name not in NOT_NARROWING for name in request.GET)


def estimated_rows(table: str, using: str) -> int | None:
    """The planner's row estimate of a whole table, or None where there is none (SQLite, or
    a table PostgreSQL has never analysed)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN c.relpages > 0 THEN c.reltuples / c.relpages"
            " * (pg_relation_size(c.oid) / current_setting('block_size')::int)"
            " ELSE c.reltuples END"
            " FROM pg_class c WHERE c.oid = to_regclass(%s)",
            [connection.ops.quote_name(table)],
        )
        row = cursor.fetchone()
    if row is None or row[0] is None or row[0] < 0:
        return None
    return int(row[0])


class EstimatingPaginator(Paginator):
    """A paginator whose count never scans a big table; `count_label` says how exact it is."""

    def __init__(self, object_list: Any, per_page: int, *, narrowed: bool, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.narrowed = narrowed
        self.count_label = ""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if self.narrowed:
            cap = max(count_up_to(), self.per_page)  # a short count must still fill a page
            found = queryset.order_by()[: cap + 1].count()
            if found > cap:
                self.count_label = f"more than {number_format(cap, force_grouping=True)}"
                return cap
            return found
        estimate = estimated_rows(queryset.model._meta.db_table, queryset.db)
        if estimate is not None and estimate > estimate_above():
            self.count_label = f"about {number_format(estimate, force_grouping=True)}"
            return estimate
        return queryset.count()
