"""The write statements: lock an object, read its document under the lock, store a change.

See `metadata.sql` for why these are literal SQL.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections

from metadata.linkables import Linkable, by_name
from metadata.rules import canonical_value
from metadata.sql.reads import columns, db_uuid

# Writers of one object queue here: PostgreSQL locks its row (not its key, so inserts that
# reference it go on); SQLite writers are already serialised by BEGIN IMMEDIATE.
LOCK = {
    "postgresql": "SELECT 1 FROM {table} WHERE {pk} = %(pk)s FOR NO KEY UPDATE",
    "sqlite": "SELECT 1 FROM {table} WHERE {pk} = %(pk)s",
}

# The document under the lock: a statement of its own, because the locking statement's
# snapshot predates its wait for the lock.
DOCUMENT = """
SELECT key, value FROM metadata_metadata
WHERE content_type_id = %(type)s AND object_id = %(object)s"""

# A write's changes travel as one JSON parameter, `[{"type", "object", "removed": [keys],
# "written": [[key, value]], "audit": [{"key", "existed_before", "old", "exists_after",
# "new"}], "event_id", "event": {...}}, ...]`, in the writer's order, each value as the JSON
# text `JSONField` stores (`_json_text`): one value to encode and send, whatever the number
# of objects and keys.
# PostgreSQL deletes, upserts, audits and queues the event in one statement (data-modifying
# CTEs), so the lock is held for one round trip.
STORE_POSTGRESQL = """
WITH objects AS (
    SELECT o.c AS c, o.n AS n, CAST(o.c ->> 'type' AS integer) AS type,
           o.c ->> 'object' AS object
    FROM jsonb_array_elements(CAST(%(changes)s AS jsonb)) WITH ORDINALITY AS o(c, n)
), removed AS (
    DELETE FROM metadata_metadata m
    USING objects, jsonb_array_elements_text(objects.c -> 'removed') AS r(key)
    WHERE m.content_type_id = objects.type AND m.object_id = objects.object AND m.key = r.key
), written AS (
    INSERT INTO metadata_metadata (content_type_id, object_id, key, value, created_at,
                                   updated_at, updated_by_id)
    SELECT objects.type, objects.object, w.e ->> 0, CAST(w.e ->> 1 AS jsonb), %(at)s, %(at)s,
           %(actor)s
    FROM objects, jsonb_array_elements(objects.c -> 'written') AS w(e)
    ON CONFLICT (content_type_id, object_id, key) DO UPDATE
    SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at,
        updated_by_id = EXCLUDED.updated_by_id
), audited AS (
    INSERT INTO metadata_metadatachange (content_type_id, object_id, key, existed_before,
                                         old_value, exists_after, new_value, actor_id, door,
                                         request_id, created_at)
    SELECT objects.type, objects.object, a.e ->> 'key', CAST(a.e ->> 'existed_before' AS boolean),
           CAST(a.e ->> 'old' AS jsonb), CAST(a.e ->> 'exists_after' AS boolean),
           CAST(a.e ->> 'new' AS jsonb), %(actor)s, %(door)s, %(request)s, %(at)s
    FROM objects, jsonb_array_elements(objects.c -> 'audit') WITH ORDINALITY AS a(e, n)
    ORDER BY objects.n, a.n
)
INSERT INTO metadata_webhookevent (id, object_type, event_type, payload, created_at)
SELECT CAST(c ->> 'event_id' AS uuid), c -> 'event' ->> 'object_type',
       c -> 'event' ->> 'event_type', c -> 'event', %(at)s
FROM objects ORDER BY n"""

# SQLite has no data-modifying CTEs: the same four steps as four statements, each reading the
# same parameter with `json_each`. (`WHERE true` keeps the upsert's ON CONFLICT from being
# read as a join's ON.)
STORE_SQLITE = (
    """
DELETE FROM metadata_metadata WHERE id IN (
    SELECT m.id FROM json_each(%(changes)s) o, json_each(o.value, '$.removed') r
    JOIN metadata_metadata m ON m.content_type_id = json_extract(o.value, '$.type')
     AND m.object_id = json_extract(o.value, '$.object') AND m.key = r.value)""",
    """
INSERT INTO metadata_metadata (content_type_id, object_id, key, value, created_at, updated_at,
                               updated_by_id)
SELECT json_extract(o.value, '$.type'), json_extract(o.value, '$.object'),
       json_extract(w.value, '$[0]'), json_extract(w.value, '$[1]'), %(at)s, %(at)s, %(actor)s
FROM json_each(%(changes)s) o, json_each(o.value, '$.written') w WHERE true
ON CONFLICT (content_type_id, object_id, key) DO UPDATE
SET value = excluded.value, updated_at = excluded.updated_at,
    updated_by_id = excluded.updated_by_id""",
    """
INSERT INTO metadata_metadatachange (content_type_id, object_id, key, existed_before, old_value,
                                     exists_after, new_value, actor_id, door, request_id,
                                     created_at)
SELECT json_extract(o.value, '$.type'), json_extract(o.value, '$.object'),
       json_extract(a.value, '$.key'), json_extract(a.value, '$.existed_before'),
       json_extract(a.value, '$.old'), json_extract(a.value, '$.exists_after'),
       json_extract(a.value, '$.new'), %(actor)s, %(door)s, %(request)s, %(at)s
FROM json_each(%(changes)s) o, json_each(o.value, '$.audit') a
ORDER BY o.key, a.key""",
    """
INSERT INTO metadata_webhookevent (id, object_type, event_type, payload, created_at)
SELECT json_extract(o.value, '$.event_id'), json_extract(o.value, '$.event.object_type'),
       json_extract(o.value, '$.event.event_type'), json_extract(o.value, '$.event'), %(at)s
FROM json_each(%(changes)s) o ORDER BY o.key""",
)


@functools.cache
def lock_sql(name: str, vendor: str) -> str:
    """`LOCK` for one type and database."""
    return LOCK[vendor].format(**columns(by_name(name)))


def lock(*, linkable: Linkable, pk: Any, alias: str) -> bool:
    """Run `LOCK`; whether the object still exists."""
    connection = connections[alias]
    sql = lock_sql(linkable.name, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"pk": linkable.model._meta.pk.get_db_prep_value(pk, connection)})
        return cursor.fetchone() is not None


def document(*, content_type_id: int, object_id: str, alias: str) -> dict[str, Any]:
    """Run `DOCUMENT`: the object's document, keys in order."""
    with connections[alias].cursor() as cursor:
        cursor.execute(DOCUMENT, {"type": content_type_id, "object": object_id})
        rows = cursor.fetchall()
    return {key: None if value is None else json.loads(value) for key, value in sorted(rows)}


@dataclass(frozen=True)
class Change:
    """What one object's write stores: the keys it removes, the entries it writes, an audit
    entry per changed key (`key`, `existed_before`, `old_value`, `exists_after`,
    `new_value`) and its event."""

    content_type_id: int
    object_id: str
    removed: Sequence[str]
    written: Mapping[str, Any]
    audit: Sequence[Mapping[str, Any]]
    event_id: uuid.UUID
    event: Mapping[str, Any]


def _json_text(value: Any) -> str | None:
    """A value as `JSONField` stores it: its keys sorted (SQLite compares JSON as text, so
    equal objects must be equal texts), and a JSON null as SQL NULL."""
    return None if value is None else json.dumps(canonical_value(value))


def store(
    changes: Sequence[Change],
    *,
    actor_id: uuid.UUID | None,
    door: str,
    request_id: str,
    at: Any,
    alias: str,
) -> None:
    """Run the store statement(s) for `changes`, in their order."""
    connection = connections[alias]
    vendor = connection.vendor
    payload = [
        {
            "type": change.content_type_id,
            "object": change.object_id,
            "removed": list(change.removed),
            "written": [[key, _json_text(value)] for key, value in change.written.items()],
            "audit": [
                {
                    "key": entry["key"],
                    "existed_before": entry["existed_before"],
                    "old": _json_text(entry["old_value"]),
                    "exists_after": entry["exists_after"],
                    "new": _json_text(entry["new_value"]),
                }
                for entry in change.audit
            ],
            "event_id": str(change.event_id) if vendor == "postgresql" else change.event_id.hex,
            "event": change.event,
        }
        for change in changes
    ]
    params = {
        "changes": json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        "actor": db_uuid(actor_id, vendor),
        "door": door,
        "request": request_id,
        "at": connection.ops.adapt_datetimefield_value(at),
    }
    statements: Sequence[str] = STORE_SQLITE
    if vendor == "postgresql":
        statements = (STORE_POSTGRESQL,)
    else:  # a step with nothing to do is not sent
        delete, upsert, audit, event = STORE_SQLITE
        removes = any(change.removed for change in changes)
        writes = any(change.written for change in changes)
        statements = [*([delete] if removes else []), *([upsert] if writes else []), audit, event]
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            # Left to choose, PostgreSQL plans this prepared statement anew on every call, which
            # costs more than running it; no value changes its plan. This transaction only.
            cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        for statement in statements:
            cursor.execute(statement, params)
