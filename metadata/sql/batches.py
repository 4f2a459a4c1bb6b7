"""The batch statements: many objects of one type found (and locked), and the documents of
many objects at once (contract section 12).

See `metadata.sql` for why these are literal SQL. A batch of 100 objects reads about a
thousand rows under its locks; through the ORM, turning those rows into values cost more than
the statement itself, and building the query that finds and locks the objects cost more than
running it (`docs/benchmark.md`, bulk rows).
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import connections

from metadata.linkables import Linkable, by_name
from metadata.sql import reads

# The objects of one type among the identifiers a batch names, each with whether the caller
# reaches it (the reads' `REACH_*`), in primary-key order. A write locks them in that order,
# `FOR NO KEY UPDATE` as `writes.LOCK` locks one, so batches that name overlapping objects in
# any order queue instead of deadlocking. A caller who may not view every object gets, and
# locks, only the objects it reaches. The identifiers travel as one parameter (an array; on
# SQLite, a JSON array), so the text and PostgreSQL's plan are the same whatever their number.
TARGETS = """
SELECT o.{pk}, o.{identifier}, {entity_column}, {reachable}
FROM {table} o
WHERE o.{identifier} {among}{only_reached}
ORDER BY o.{pk}{lock}"""
AMONG = {
    "postgresql": "= ANY(%(keys)s)",
    "sqlite": "IN (SELECT value FROM json_each(%(keys)s))",
}

# The objects travel as one JSON parameter, `[[content type id, object id], ...]`, so the
# statement's text and plan are the same whatever the number of objects. Each object's rows
# come from a subquery of their own, as `reads.DOCUMENT_OF` does for one object: one probe of
# the `(content type, object id, key)` unique index each (a join would let the planner hash a
# scan of the table, which it prefers while the table is small). Everything comes back as one
# JSON text, `[[content type id, object id, [[key, value], ...] or null], ...]`, decoded in
# one call (a call per value cost more than the statement).
DOCUMENTS = {
    "postgresql": """
SELECT CAST(json_agg(json_build_array(o.e -> 0, o.e -> 1, (
    SELECT json_agg(json_build_array(m.key, m.value)) FROM metadata_metadata m
    WHERE m.content_type_id = CAST(o.e ->> 0 AS integer) AND m.object_id = o.e ->> 1
))) AS text)
FROM jsonb_array_elements(CAST(%(objects)s AS jsonb)) AS o(e)""",
    "sqlite": """
SELECT json_group_array(json_array(json_extract(o.value, '$[0]'), json_extract(o.value, '$[1]'),
    json((SELECT json_group_array(json_array(m.key, json(m.value))) FROM metadata_metadata m
          WHERE m.content_type_id = json_extract(o.value, '$[0]')
            AND m.object_id = json_extract(o.value, '$[1]')))))
FROM json_each(%(objects)s) AS o""",
}


def documents(
    *, objects: Sequence[tuple[int, str]], alias: str
) -> dict[tuple[int, str], dict[str, Any]]:
    """Run `DOCUMENTS` for (content type id, object id) pairs: each object's document, keys
    in order (objects without rows are absent). No objects, no statement."""
    if not objects:
        return {}
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(DOCUMENTS[connection.vendor], {"objects": json.dumps(list(objects))})
        (text,) = cursor.fetchone()
    return {
        (content_type_id, object_id): dict(sorted(pairs))
        for content_type_id, object_id, pairs in json.loads(text or "[]")
        if pairs
    }


@functools.cache
def targets_sql(name: str, vendor: str, caller: str, only_reached: bool, lock: bool) -> str:
    """`TARGETS` for one type, database and kind of caller (as `reads.read_sql`)."""
    linkable = by_name(name)
    names = reads.columns(linkable)
    if caller == "user":
        reach = reads.reach_sql(linkable)
    else:
        reach = reads.REACH_SERVED.format(entity=names["entity"])
    return TARGETS.format(
        entity_column=f"o.{names['entity']}" if names["entity"] else "NULL",
        reachable="1 = 1" if only_reached else reach,
        among=AMONG[vendor],
        only_reached=f" AND {reach}" if only_reached else "",
        lock=" FOR NO KEY UPDATE OF o" if lock and vendor == "postgresql" else "",
        **names,
    )


def targets(
    *,
    linkable: Linkable,
    keys: Sequence[Any],
    caller: reads.Caller,
    only_reached: bool,
    lock: bool,
    alias: str,
) -> list[tuple[Any, Any, uuid.UUID | None, bool]]:
    """Run `TARGETS` for parsed identifiers: (primary key, identifier, entity id, whether the
    caller reaches it) of each object found, in primary-key order."""
    connection = connections[alias]
    vendor = connection.vendor
    sql = targets_sql(linkable.name, vendor, reads.caller_kind(caller), only_reached, lock)
    identifier = reads.field_of(linkable, linkable.identifier_field)
    values = [identifier.get_db_prep_value(key, connection) for key in keys]
    params = {
        **reads.caller_params(caller, vendor),
        "keys": values if vendor == "postgresql" else json.dumps(values),
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    pk = linkable.model._meta.pk
    return [
        (
            pk.to_python(found),
            identifier.to_python(key),
            None if entity_id is None else uuid.UUID(str(entity_id)),
            bool(reachable),
        )
        for found, key, entity_id, reachable in rows
    ]
