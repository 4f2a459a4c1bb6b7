"""Querysets compiled once by the ORM, then run with new values on every call.

Django builds and compiles a queryset from scratch each time; for the query every request
runs (resolving a target with the caller's access and flags: nine subqueries), that costs
several times what the database does. The ORM still writes the SQL, once per shape: values
are bound through placeholders, found in the compiled parameters by their sentinels.

On PostgreSQL the parameters are then named, so a value the SQL uses in several places
(the caller's id, nine times in a target query) is sent and bound once, and so is each
constant the ORM parameterised (the `1` of every `EXISTS`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Field, QuerySet

_PARAMETER = re.compile(r"%%|%s")


@dataclass(frozen=True)
class Placeholder:
    """A value the query takes per call: `sentinel` stands in for it while compiling."""

    sentinel: Any
    field: Field

    def prep(self, value: Any, connection: Any) -> Any:
        return self.field.get_db_prep_value(value, connection, prepared=False)


@dataclass(frozen=True)
class CompiledQuery:
    sql: str
    params: tuple[Any, ...] | Mapping[str, Any]
    slots: Mapping[str, tuple[int, ...]]
    placeholders: Mapping[str, Placeholder]
    model: type

    def rows(self, **values: Any) -> list[tuple[Any, ...]]:
        connection = connections[router.db_for_read(self.model)]
        params: list[Any] | dict[str, Any]
        if isinstance(self.params, Mapping):
            params = dict(self.params)
            for name, placeholder in self.placeholders.items():
                params[name] = placeholder.prep(values[name], connection)
        else:
            params = list(self.params)
            for name, positions in self.slots.items():
                prepped = self.placeholders[name].prep(values[name], connection)
                for position in positions:
                    params[position] = prepped
        with connection.cursor() as cursor:
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
        prepped = placeholder.prep(placeholder.sentinel, connections[alias])
        positions = tuple(i for i, param in enumerate(params) if _same_parameter(param, prepped))
        if not positions:
            raise ValueError(f"placeholder {name} does not appear in the compiled query")
        slots[name] = positions
    compiled: tuple[Any, ...] | Mapping[str, Any] = tuple(params)
    if connections[alias].vendor == "postgresql":
        sql, compiled = _name_parameters(sql, tuple(params), slots)
    return CompiledQuery(
        sql=sql,
        params=compiled,
        slots=slots,
        placeholders=placeholders,
        model=queryset.model,
    )


def _same_parameter(param: Any, prepped: Any) -> bool:
    """Equal parameters; psycopg's JSON wrappers (`Jsonb`, what a JSONField binds on
    PostgreSQL) compare by the value they wrap."""
    if type(param) is not type(prepped):
        return False
    if hasattr(prepped, "obj") and hasattr(prepped, "dumps"):
        return bool(param.obj == prepped.obj)
    return bool(param == prepped)


def _name_parameters(
    sql: str, params: tuple[Any, ...], slots: Mapping[str, tuple[int, ...]]
) -> tuple[str, dict[str, Any]]:
    """`%s` parameters as `%(name)s`: a placeholder's positions share its name, and equal
    constants share one name."""
    names = {position: name for name, positions in slots.items() for position in positions}
    constants: dict[str, Any] = {}
    constant_names: dict[tuple[type, Any], str] = {}
    position = 0

    def named(match: re.Match[str]) -> str:
        nonlocal position
        if match.group() == "%%":
            return "%%"
        index, position = position, position + 1
        if index in names:
            return f"%({names[index]})s"
        value = params[index]
        try:
            key = (type(value), value)
            name = constant_names.setdefault(key, f"constant_{len(constant_names)}")
        except TypeError:  # unhashable: a name of its own
            name = f"constant_{len(constant_names)}_{index}"
        constants[name] = value
        return f"%({name})s"

    sql = _PARAMETER.sub(named, sql)
    if position != len(params):
        raise ValueError("the compiled SQL does not have one %s per parameter")
    return sql, constants
