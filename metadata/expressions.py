"""SQL expressions the selectors build their queries from, one per database quirk they hide.

Each is written for PostgreSQL first (`as_sql`) with SQLite's spelling beside it
(`as_sqlite`), so a query compiled from them means the same on both.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Aggregate, Func, TextField


class ObjectIdOf(Func):
    """A primary key as text, in the form `Metadata.object_id` stores it (`str(pk)`).

    SQLite keeps UUIDs as 32 hex digits, so there the dashes are put back. The expression
    is written out five times there: it must be a column, which takes no parameters.
    """

    output_field = TextField()
    template = "CAST(%(expressions)s AS TEXT)"
    _SQLITE_UUID = " || '-' || ".join(
        f"SUBSTR(%(expressions)s, {start}, {length})"
        for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
    )

    def __init__(self, expression: Any, *, is_uuid: bool) -> None:
        super().__init__(expression)
        self.is_uuid = is_uuid

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        if self.is_uuid:
            _, params = compiler.compile(self.get_source_expressions()[0])
            if params:  # written five times, its parameters would be bound once
                raise ValueError("ObjectIdOf takes a column on SQLite, not an expression")
            extra["template"] = f"({self._SQLITE_UUID})"
        return self.as_sql(compiler, connection, **extra)


class DocumentPairs(Aggregate):
    """A document's rows as one JSON text, `[[key, value], ...]`, in no particular order.

    A JSON `null` value is SQL NULL in the row and `null` in the pair; SQLite keeps values as
    JSON text, which `JSON()` embeds as JSON rather than as a string.
    """

    function = "JSON_AGG"
    name = "DocumentPairs"
    output_field = TextField()
    template = "CAST(JSON_AGG(JSON_BUILD_ARRAY(%(expressions)s)) AS TEXT)"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        clone = self.copy()
        key, value, *rest = clone.get_source_expressions()  # `rest`: the aggregate's filter
        clone.set_source_expressions([key, Func(value, function="JSON"), *rest])
        extra["template"] = "JSON_GROUP_ARRAY(JSON_ARRAY(%(expressions)s))"
        return super(DocumentPairs, clone).as_sql(compiler, connection, **extra)
