"""Querysets compiled once by the ORM, then run with new values on every call.

Django builds and compiles a queryset from scratch each time; for the query every request
runs (resolving a target with the caller's access and flags: nine subqueries), that costs
several times what the database does. The ORM still writes the SQL, once per shape: values
are bound through placeholders, found in the compiled parameters by their sentinels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Field, QuerySet


@dataclass(frozen=True)
class Placeholder:
    """A value the query takes per call: `sentinel` stands in for it while compiling."""

    sentinel: Any
    field: Field

    def prep(self, value: Any, alias: str) -> Any:
        return self.field.get_db_prep_value(value, connections[alias], prepared=False)


@dataclass(frozen=True)
class CompiledQuery:
    sql: str
    params: tuple[Any, ...]
    slots: Mapping[str, tuple[int, ...]]
    placeholders: Mapping[str, Placeholder]
    model: type

    def rows(self, **values: Any) -> list[tuple[Any, ...]]:
        alias = router.db_for_read(self.model)
        params = list(self.params)
        for name, positions in self.slots.items():
            prepped = self.placeholders[name].prep(values[name], alias)
            for position in positions:
                params[position] = prepped
        with connections[alias].cursor() as cursor:
            cursor.execute(self.sql, params)
            return cursor.fetchall()


def compile_query(
    build: Callable[..., QuerySet], placeholders: Mapping[str, Placeholder], alias: str
) -> CompiledQuery:
    """Compile `build(**sentinels)` and note where each sentinel's parameter stands."""
    queryset = build(**{name: p.sentinel for name, p in placeholders.items()})
    sql, params = queryset.query.sql_with_params()
    slots = {}
    for name, placeholder in placeholders.items():
        prepped = placeholder.prep(placeholder.sentinel, alias)
        positions = tuple(i for i, param in enumerate(params) if param == prepped)
        if not positions:
            raise ValueError(f"placeholder {name} does not appear in the compiled query")
        slots[name] = positions
    return CompiledQuery(
        sql=sql,
        params=tuple(params),
        slots=slots,
        placeholders=placeholders,
        model=queryset.model,
    )
