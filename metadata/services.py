"""Writes: every change to `Metadata` rows, from every door.

Each write locks the linked object's row, reads the document, builds the document as it
will be, checks the rules on *that* (the entries it changes, and the size of the whole), and
writes only the keys that changed, with an audit entry per key and one change event (the
webhook outbox), in one transaction. Concurrent writers of one object queue on the lock
(PostgreSQL `FOR NO KEY UPDATE`; SQLite takes its database write lock at BEGIN IMMEDIATE),
so no key is lost and the size rule holds for the document as committed. On PostgreSQL the
rows, the audit entries and the event are written by one statement.
"""

from __future__ import annotations

import datetime
import functools
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, connections, router, transaction
from django.db.models import UUIDField
from django.utils import timezone

from metadata import consistency, rules
from metadata.compiled import CompiledQuery, Placeholder, compile_query
from metadata.errors import KeyExists, NotFound, PreconditionFailed
from metadata.linkables import Linkable, Target
from metadata.models import Door, Metadata, MetadataChange, WebhookEvent
from metadata.rules import Document
from metadata.selectors import content_type_for, get_document, rows_of
from metadata.webhooks import events


@dataclass(frozen=True)
class WriteContext:
    """Who writes, through which door, for which request: recorded on every audit entry."""

    actor_id: uuid.UUID | None
    door: Door
    request_id: str = ""


@dataclass(frozen=True)
class Entry:
    key: str
    value: Any


def replace_document(
    *,
    target: Target,
    document: Any,
    context: WriteContext,
    if_match: Iterable[str] | None = None,
) -> Document:
    """PUT: the document becomes exactly `document`; `{}` deletes every key."""
    rules.check_document(document)
    return _write(target, context, lambda current: dict(document), if_match=if_match)


def merge_document(
    *,
    target: Target,
    patch: Any,
    context: WriteContext,
    if_match: Iterable[str] | None = None,
) -> Document:
    """PATCH: JSON Merge Patch (RFC 7396), applied to the document under the lock."""
    rules.check_is_object(patch)
    return _write(
        target, context, lambda current: rules.apply_merge_patch(current, patch), if_match=if_match
    )


def set_key(
    *,
    target: Target,
    key: str,
    value: Any,
    context: WriteContext,
    create_only: bool = False,
    expected_digest: str | None = None,
) -> Entry:
    """One key set to `value` (`null` is stored as null); the whole document is checked.

    `create_only` refuses an existing key; `expected_digest` (see `rules.value_digest`)
    refuses the write when the stored value is no longer the one the caller read.
    """
    rules.check_entry(key, value)

    def change(current: Document) -> Document:
        if create_only and key in current:
            raise KeyExists(f"The key {key!r} already exists; use updateMetadata to change it.")
        if expected_digest is not None:
            stored = rules.value_digest(current[key]) if key in current else None
            if stored != expected_digest:
                raise PreconditionFailed(
                    f"The value of {key!r} has changed since you read it; read it again."
                )
        return {**current, key: value}

    document = _write(target, context, change)
    return Entry(key=key, value=document[key])


def delete_key(*, target: Target, key: str, context: WriteContext) -> Entry | None:
    """Remove one key; the removed pair, or None when there was none."""
    removed: list[Entry] = []

    def change(current: Document) -> Document:
        if key in current:
            removed.append(Entry(key=key, value=current[key]))
        return {k: v for k, v in current.items() if k != key}

    _write(target, context, change)
    return removed[0] if removed else None


def _write(
    target: Target,
    context: WriteContext,
    change: Callable[[Document], Document],
    *,
    if_match: Iterable[str] | None = None,
) -> Document:
    alias = router.db_for_write(Metadata)
    with transaction.atomic(using=alias):
        transaction.on_commit(lambda: consistency.wrote(context.actor_id), using=alias)
        _lock(target, alias)
        current = get_document(target=target)  # after the lock: no writer is between
        if if_match is not None and not _matches(current, if_match):
            raise PreconditionFailed()
        new = change(current)
        written = _written(current, new)
        rules.check_document(new, entries=written)
        _store(target, current, new, written, context, alias)
    return dict(sorted(new.items()))


# Stand-ins while the lock statement is compiled; none can name a real object.
_SENTINEL_PKS = {UUIDField: uuid.UUID("00000000-0000-4000-8000-00005e471ae4")}
_compiled_locks: dict[tuple[str, str], CompiledQuery] = {}


def _lock(target: Target, alias: str) -> None:
    """`FOR NO KEY UPDATE` the object's row (compiled once per type): writers of it queue here.

    SQLite has no row locks; its writers are serialised by BEGIN IMMEDIATE instead.
    """
    model = target.linkable.model
    cache_key = (target.linkable.name, connections[alias].vendor)
    if cache_key not in _compiled_locks:
        pk_field = model._meta.pk
        sentinel = _SENTINEL_PKS.get(type(pk_field), 9_223_372_036_854_775_002)
        _compiled_locks[cache_key] = compile_query(
            lambda pk: (
                model.objects.select_for_update(no_key=True)
                .filter(pk=pk)
                .order_by()
                .values_list("pk")[:1]
            ),
            {"pk": Placeholder(sentinel, pk_field)},
            alias,
        )
    if not _compiled_locks[cache_key].rows(pk=target.pk):
        raise NotFound()


def _matches(current: Document, if_match: Iterable[str]) -> bool:
    tags = {tag.strip() for tag in if_match}
    return "*" in tags or rules.document_etag(current) in tags


def _same(a: Any, b: Any) -> bool:
    """JSON equality: `1`, `1.0` and `true` differ, as they do on the wire (and `-0.0`
    from `0.0`); objects are equal whatever their key order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(value, b[key]) for key, value in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float):
        return repr(a) == repr(b)
    return bool(a == b)


@dataclass(frozen=True)
class _Change:
    """What one write stores: rows removed and written, an audit entry per changed key (in
    key order; the event carries the same entries as its `changes`), one event."""

    target: Target
    removed: list[str]
    written: dict[str, Any]
    audit: list[dict[str, Any]]
    event: WebhookEvent
    context: WriteContext
    at: datetime.datetime


def _written(current: Document, new: Document) -> dict[str, Any]:
    """The entries of `new` that are not in `current` as they are: what a write stores."""
    return {
        key: value
        for key, value in new.items()
        if key not in current or not _same(current[key], value)
    }


def _store(
    target: Target,
    current: Document,
    new: Document,
    written: dict[str, Any],
    context: WriteContext,
    alias: str,
) -> None:
    removed = [key for key in current if key not in new]
    if not removed and not written:
        return
    at = timezone.now()
    audit = [
        {
            "key": key,
            "existed_before": key in current,
            "old_value": current.get(key),
            "exists_after": key in new,
            "new_value": new.get(key),
        }
        for key in sorted([*removed, *written])
    ]
    event = events.change_event(
        target=target, before=current, after=new, changes=audit, context=context, at=at
    )
    change = _Change(target, removed, written, audit, event, context, at)
    if connections[alias].vendor == "postgresql":
        _store_in_one_statement(change, alias)
    else:
        _store_with_the_orm(change)


def _store_with_the_orm(change: _Change) -> None:
    target, context = change.target, change.context
    where = {"content_type": content_type_for(target.linkable), "object_id": target.object_id}
    if change.removed:
        rows_of(target).filter(key__in=change.removed).delete()
    if change.written:
        Metadata.objects.bulk_create(
            [
                Metadata(
                    **where,
                    key=key,
                    value=rules.canonical_value(value),  # SQLite compares JSON as text
                    updated_by_id=context.actor_id,
                )
                for key, value in change.written.items()
            ],
            update_conflicts=True,
            unique_fields=("content_type", "object_id", "key"),
            update_fields=("value", "updated_at", "updated_by"),
        )
    MetadataChange.objects.bulk_create(
        [
            MetadataChange(
                **where,
                **entry,
                actor_id=context.actor_id,
                door=context.door,
                request_id=context.request_id,
            )
            for entry in change.audit
        ]
    )
    change.event.save(force_insert=True)


@functools.cache
def _one_statement_sql() -> str:
    """PostgreSQL: delete, upsert, audit and event in one statement (data-modifying CTEs).

    The same rows the ORM path writes, in one round trip instead of four and with no
    queryset built per write: this statement runs under the object's lock, so its length is
    how long the next writer of the object waits. What changes travels as one JSON
    parameter (`_change_json`), unpacked by the statement: one value to encode and send. The
    audit rows are the event's `changes`. A JSON `null` value is stored as SQL NULL, as the
    ORM stores it.
    """
    m, c, e = (
        connection.ops.quote_name(model._meta.db_table)
        for model in (Metadata, MetadataChange, WebhookEvent)
    )
    return f"""
WITH change AS (
    SELECT %(change)s::jsonb AS c
), removed AS (
    DELETE FROM {m}
    WHERE content_type_id = %(type)s AND object_id = %(object)s
      AND key IN (SELECT jsonb_array_elements_text(c -> 'removed') FROM change)
), written AS (
    INSERT INTO {m} (content_type_id, object_id, key, value, created_at, updated_at,
                     updated_by_id)
    SELECT %(type)s, %(object)s, w.key, NULLIF(w.value, 'null'::jsonb), %(at)s, %(at)s,
           %(actor)s
    FROM change, jsonb_each(c -> 'written') AS w(key, value)
    ON CONFLICT (content_type_id, object_id, key) DO UPDATE
    SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at,
        updated_by_id = EXCLUDED.updated_by_id
), audited AS (
    INSERT INTO {c} (content_type_id, object_id, key, existed_before, old_value,
                     exists_after, new_value, actor_id, door, request_id, created_at)
    SELECT %(type)s, %(object)s, a.entry ->> 'key', (a.entry -> 'existed_before')::boolean,
           NULLIF(a.entry -> 'old_value', 'null'::jsonb),
           (a.entry -> 'exists_after')::boolean, NULLIF(a.entry -> 'new_value', 'null'::jsonb),
           %(actor)s, %(door)s, %(request)s, %(at)s
    FROM change,
         jsonb_array_elements(c -> 'event' -> 'changes') WITH ORDINALITY AS a(entry, n)
    ORDER BY a.n
)
INSERT INTO {e} (id, object_type, event_type, payload, created_at)
SELECT %(event)s, %(object_type)s, %(event_type)s, c -> 'event', %(at)s FROM change
"""


def _change_json(change: _Change) -> str:
    """The keys a write removes, the entries it writes and its event (whose `changes` are the
    audit entries), as one JSON text: `{"removed": [...], "written": {...}, "event": {...}}`."""
    return rules.canonical_json(
        {"removed": change.removed, "written": change.written, "event": change.event.payload}
    )


def _store_in_one_statement(change: _Change, alias: str) -> None:
    target, context, event = change.target, change.context, change.event
    params = {
        "type": content_type_for(target.linkable).pk,
        "object": target.object_id,
        "change": _change_json(change),
        "actor": context.actor_id,
        "door": str(context.door),
        "request": context.request_id,
        "at": change.at,
        "event": event.id,
        "object_type": event.object_type,
        "event_type": event.event_type,
    }
    with connections[alias].cursor() as cursor:
        cursor.execute(_one_statement_sql(), params)


def forget_object(*, linkable: Linkable, pk: Any) -> int:
    """Delete the rows of an object that is being deleted, so none outlives it.

    Its audit trail stays: history of what a deleted object carried is still support's to read.
    """
    content_type = content_type_for(linkable)
    deleted, _ = Metadata.objects.filter(content_type=content_type, object_id=str(pk)).delete()
    return deleted
