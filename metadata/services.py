"""Writes: every change to `Metadata` rows, from every door.

Each write locks the linked object's row, reads the document, builds the document as it
will be, checks the rules on *that* (the entries it changes, and the size of the whole), and
writes only the keys that changed, with an audit entry per key and one change event (the
webhook outbox), in one transaction. Concurrent writers of one object queue on the lock
(PostgreSQL `FOR NO KEY UPDATE`; SQLite takes its database write lock at BEGIN IMMEDIATE),
so no key is lost and the size rule holds for the document as committed. On PostgreSQL the
rows, the audit entries and the event are written by one statement.

A batch (`merge_documents`, `set_keys`; contract section 12) does the same for up to 100
objects in one transaction. It locks them all in one fixed order (content type, then primary
key), so batches that overlap in any order queue instead of deadlocking, and it costs a fixed
number of statements whatever its size. Either every item is written or none is: a refused
batch lists every refused item (`BatchRefused`), each with the error its single write would
have raised.
"""

from __future__ import annotations

import datetime
import functools
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, connections, router, transaction
from django.db.models import Q, UUIDField
from django.utils import timezone

from metadata import consistency, rules
from metadata.compiled import CompiledQuery, Placeholder, compile_query
from metadata.errors import (
    BatchRefused,
    InvalidBatch,
    ItemRefusal,
    KeyExists,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    RuleViolation,
    Violation,
)
from metadata.linkables import Linkable, Target
from metadata.models import Metadata, MetadataChange, WebhookEvent, WriteContext
from metadata.permissions import Action, metadata_permission
from metadata.principals import Principal
from metadata.rules import Document
from metadata.selectors import (
    BATCH_MAX_ITEMS,
    MSG_BATCH_SIZE,
    content_type_for,
    find_targets,
    get_document,
    get_documents,
    rows_of,
)
from metadata.webhooks import events


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


def edit_document(
    *,
    target: Target,
    changes: Mapping[str, Any],
    removed: Iterable[str] = (),
    context: WriteContext,
) -> Document:
    """Set the `changes` (a JSON `null` is stored as null) and remove the `removed` keys, in
    one write: the admin's inline save, exactly as a PATCH of the same keys (one transaction,
    one change event, an audit entry per changed key)."""
    for key, value in changes.items():
        rules.check_entry(key, value)
    gone = set(removed)

    def change(current: Document) -> Document:
        return {**{k: v for k, v in current.items() if k not in gone}, **changes}

    return _write(target, context, change)


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
    change = _change_of(target, current, new, written, context)
    if change is None:
        return
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


# Batches (contract section 12): many objects in one transaction, all or nothing.


@dataclass(frozen=True)
class MergeItem:
    """One object's JSON Merge Patch in a batch, with the ETags it may still have."""

    linkable: Linkable
    identifier: str
    patch: Any
    if_match: Sequence[str] | None = None


@dataclass(frozen=True)
class SetItem:
    """One key of one object set in a batch (`null` is stored as null), optionally only
    while its stored value still has `expected_digest`."""

    linkable: Linkable
    identifier: str
    key: str
    value: Any
    expected_digest: str | None = None


@dataclass(frozen=True)
class Written:
    """One batch item's object and its document as committed."""

    target: Target
    document: Document


def merge_documents(
    *,
    principal: Principal | None,
    items: Sequence[MergeItem],
    context: WriteContext,
    entity_scope: str | None = None,
) -> list[Written]:
    """PATCH of many objects: each item as `merge_document` would apply it, all in one
    transaction; each object at most once. Any refused item refuses the whole batch
    (`BatchRefused`, listing every refused item) and nothing is written."""

    def edit(index: int, current: Document) -> Document:
        item = items[index]
        if item.if_match is not None and not _matches(current, item.if_match):
            raise PreconditionFailed()
        rules.check_is_object(item.patch)
        return rules.apply_merge_patch(current, item.patch)

    return _write_batch(principal, items, edit, context, entity_scope, one_per_object=True)


def set_keys(
    *,
    principal: Principal | None,
    items: Sequence[SetItem],
    context: WriteContext,
    entity_scope: str | None = None,
) -> list[Written]:
    """`set_key` of many pairs (any mix of objects and types) in one transaction; pairs of
    one object apply in order, and the size rule holds for its document with all of them.
    All or nothing, as `merge_documents`."""

    def edit(index: int, current: Document) -> Document:
        item = items[index]
        rules.check_entry(item.key, item.value)
        if item.expected_digest is not None:
            stored = rules.value_digest(current[item.key]) if item.key in current else None
            if stored != item.expected_digest:
                raise PreconditionFailed(
                    f"The value of {item.key!r} has changed since you read it; read it again."
                )
        return {**current, item.key: item.value}

    return _write_batch(principal, items, edit, context, entity_scope, one_per_object=False)


def delete_key_of_objects(
    *, targets: Sequence[Target], key: str, context: WriteContext
) -> list[Entry | None]:
    """Remove one key from several objects already authorised (the admin's action), in one
    transaction: the removed pairs, in the order of `targets` (None where there was none)."""
    removed: list[Entry | None] = []
    alias = router.db_for_write(Metadata)
    with transaction.atomic(using=alias):
        transaction.on_commit(lambda: consistency.wrote(context.actor_id), using=alias)
        ordered = sorted(
            {(t.linkable.name, t.object_id): t for t in targets}.values(), key=_lock_order
        )
        for target in ordered:
            _lock(target, alias)
        documents = dict(
            zip(map(_identity, ordered), get_documents(targets=ordered, using=alias), strict=True)
        )
        changes = []
        for target in ordered:
            current = documents[_identity(target)]
            new = {k: v for k, v in current.items() if k != key}
            changes.append(_change_of(target, current, new, {}, context))
        _store_many([change for change in changes if change is not None], alias)
    for target in targets:
        current = documents[_identity(target)]
        removed.append(Entry(key=key, value=current[key]) if key in current else None)
    return removed


def _identity(target: Target) -> tuple[str, str]:
    return (target.linkable.name, target.object_id)


def _lock_order(target: Target) -> tuple[int, Any]:
    """Content type, then primary key: the order every batch locks its objects in."""
    return (content_type_for(target.linkable).pk, target.pk)


def _write_batch(
    principal: Principal | None,
    items: Sequence[MergeItem] | Sequence[SetItem],
    edit: Callable[[int, Document], Document],
    context: WriteContext,
    entity_scope: str | None,
    *,
    one_per_object: bool,
) -> list[Written]:
    """Resolve, lock, read, edit, check and store a batch, with a fixed number of
    statements whatever its size: per type named, one statement resolves and locks its
    objects (content type order, then primary key order); one reads every document; one
    (PostgreSQL) stores every row, audit entry and event."""
    principal = metadata_permission.authenticate(principal)
    if not 1 <= len(items) <= BATCH_MAX_ITEMS:
        raise InvalidBatch(MSG_BATCH_SIZE.format(max=BATCH_MAX_ITEMS, count=len(items)))
    alias = router.db_for_write(Metadata)
    refusals: list[ItemRefusal] = []
    with transaction.atomic(using=alias):
        transaction.on_commit(lambda: consistency.wrote(context.actor_id), using=alias)
        targets = _lock_targets(principal, items, alias)
        groups: dict[tuple[str, str], list[int]] = {}
        for index, target in enumerate(targets):
            if target is None:
                refusals.append(ItemRefusal(index, NotFound()))
                continue
            try:
                metadata_permission.check(
                    principal, target, Action.WRITE, entity_scope=entity_scope
                )
            except (NotFound, PermissionDenied) as error:
                refusals.append(ItemRefusal(index, error))
                continue
            group = groups.setdefault(_identity(target), [])
            if group and one_per_object:
                refusals.append(ItemRefusal(index, _duplicate(group[0])))
                continue
            group.append(index)
        firsts = [targets[indices[0]] for indices in groups.values()]
        currents = get_documents(targets=firsts, using=alias)  # under the locks
        changes: list[_Change] = []
        documents: dict[tuple[str, str], Document] = {}
        for indices, target, current in zip(groups.values(), firsts, currents, strict=True):
            assert target is not None
            new = current
            refused = False
            for index in indices:
                try:
                    new = edit(index, new)
                except (RuleViolation, PreconditionFailed) as error:
                    refusals.append(ItemRefusal(index, error))
                    refused = True
            if refused:
                continue
            written = _written(current, new)
            try:
                rules.check_document(new, entries=written)
            except RuleViolation as error:
                refusals.extend(ItemRefusal(index, error) for index in indices)
                continue
            documents[_identity(target)] = dict(sorted(new.items()))
            change = _change_of(target, current, new, written, context)
            if change is not None:
                changes.append(change)
        if refusals:
            raise BatchRefused(refusals)
        _store_many(changes, alias)
    return [
        Written(target=target, document=documents[_identity(target)])
        for target in targets
        if target is not None
    ]


def _duplicate(first: int) -> RuleViolation:
    message = f"this object is already item {first} of the batch; name each object once"
    return RuleViolation([Violation(("id",), message, "value_error.duplicate")])


def _lock_targets(
    principal: Principal, items: Sequence[MergeItem] | Sequence[SetItem], alias: str
) -> list[Target | None]:
    """Each item's object (None when missing or unreadable), locked: one statement per type
    named, types in content type order, each locking its rows in primary-key order."""
    by_type: dict[Linkable, list[str]] = {}
    for item in items:
        by_type.setdefault(item.linkable, []).append(item.identifier)
    found: dict[tuple[str, str], Target] = {}
    for linkable in sorted(by_type, key=lambda lk: content_type_for(lk).pk):
        for identifier, each in find_targets(
            linkable=linkable,
            identifiers=by_type[linkable],
            principal=principal,
            lock=True,
            using=alias,
        ).items():
            found[(linkable.name, identifier)] = each.target
    return [found.get((item.linkable.name, item.identifier)) for item in items]


def _change_of(
    target: Target, current: Document, new: Document, written: dict[str, Any], context: WriteContext
) -> _Change | None:
    """What storing `new` over `current` writes (`_store` for one object); None when
    nothing changes."""
    removed = [key for key in current if key not in new]
    if not removed and not written:
        return None
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
    return _Change(target, removed, written, audit, event, context, at)


def _store_many(changes: Sequence[_Change], alias: str) -> None:
    if not changes:
        return
    if connections[alias].vendor == "postgresql":
        with connections[alias].cursor() as cursor:
            cursor.execute(_many_statement_sql(), _many_params(changes))
        return
    removed = Q(pk__in=[])
    for change in changes:
        if change.removed:
            where = _where(change.target)
            removed |= Q(**where, key__in=change.removed)
    Metadata.objects.using(alias).filter(removed).delete()
    context = changes[0].context
    Metadata.objects.using(alias).bulk_create(
        [
            Metadata(
                **_where(change.target),
                key=key,
                value=rules.canonical_value(value),  # SQLite compares JSON as text
                updated_by_id=context.actor_id,
            )
            for change in changes
            for key, value in change.written.items()
        ],
        update_conflicts=True,
        unique_fields=("content_type", "object_id", "key"),
        update_fields=("value", "updated_at", "updated_by"),
    )
    MetadataChange.objects.using(alias).bulk_create(
        [
            MetadataChange(
                **_where(change.target),
                **entry,
                actor_id=context.actor_id,
                door=context.door,
                request_id=context.request_id,
            )
            for change in changes
            for entry in change.audit
        ]
    )
    WebhookEvent.objects.using(alias).bulk_create([change.event for change in changes])


def _where(target: Target) -> dict[str, Any]:
    return {"content_type": content_type_for(target.linkable), "object_id": target.object_id}


@functools.cache
def _many_statement_sql() -> str:
    """`_one_statement_sql` for many objects: their rows, audit entries and events in one
    statement, from one JSON array of changes (`_many_params`), in the batch's order."""
    m, c, e = (
        connection.ops.quote_name(model._meta.db_table)
        for model in (Metadata, MetadataChange, WebhookEvent)
    )
    return f"""
WITH objects AS (
    SELECT (o.c ->> 'type')::integer AS type, o.c ->> 'object' AS object, o.c AS c, o.n AS n
    FROM jsonb_array_elements(%(changes)s::jsonb) WITH ORDINALITY AS o(c, n)
), removed AS (
    DELETE FROM {m} AS row
    USING (
        SELECT objects.type, objects.object, r.key
        FROM objects, jsonb_array_elements_text(objects.c -> 'removed') AS r(key)
    ) AS gone
    WHERE row.content_type_id = gone.type AND row.object_id = gone.object
      AND row.key = gone.key
), written AS (
    INSERT INTO {m} (content_type_id, object_id, key, value, created_at, updated_at,
                     updated_by_id)
    SELECT objects.type, objects.object, w.key, NULLIF(w.value, 'null'::jsonb), %(at)s,
           %(at)s, %(actor)s
    FROM objects, jsonb_each(objects.c -> 'written') AS w(key, value)
    ON CONFLICT (content_type_id, object_id, key) DO UPDATE
    SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at,
        updated_by_id = EXCLUDED.updated_by_id
), audited AS (
    INSERT INTO {c} (content_type_id, object_id, key, existed_before, old_value,
                     exists_after, new_value, actor_id, door, request_id, created_at)
    SELECT objects.type, objects.object, a.entry ->> 'key',
           (a.entry -> 'existed_before')::boolean,
           NULLIF(a.entry -> 'old_value', 'null'::jsonb),
           (a.entry -> 'exists_after')::boolean, NULLIF(a.entry -> 'new_value', 'null'::jsonb),
           %(actor)s, %(door)s, %(request)s, %(at)s
    FROM objects,
         jsonb_array_elements(objects.c -> 'event' -> 'changes') WITH ORDINALITY AS a(entry, n)
    ORDER BY objects.n, a.n
)
INSERT INTO {e} (id, object_type, event_type, payload, created_at)
SELECT (c -> 'event' ->> 'id')::uuid, c -> 'event' ->> 'object_type',
       c -> 'event' ->> 'event_type', c -> 'event', %(at)s
FROM objects ORDER BY n
"""


def _many_params(changes: Sequence[_Change]) -> dict[str, Any]:
    context = changes[0].context
    payload = [
        {
            "type": content_type_for(change.target.linkable).pk,
            "object": change.target.object_id,
            "removed": change.removed,
            "written": change.written,
            "event": change.event.payload,
        }
        for change in changes
    ]
    return {
        "changes": rules.canonical_json(payload),
        "actor": context.actor_id,
        "door": str(context.door),
        "request": context.request_id,
        "at": changes[0].at,
    }
