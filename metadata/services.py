"""Writes: every change to `Metadata` rows, from every door.

Each write locks the linked object's row, reads the document, builds the document as it
will be, checks the rules on *that*, and writes only the keys that changed, with an audit
entry per key and one change event (the webhook outbox), in one transaction. Concurrent
writers of one object queue on the lock (PostgreSQL `FOR NO KEY UPDATE`; SQLite takes its
database write lock at BEGIN IMMEDIATE), so no key is lost and the size rule holds for the
document as committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from metadata import rules
from metadata.errors import KeyExists, NotFound, PreconditionFailed
from metadata.linkables import Linkable, Target
from metadata.models import Door, Metadata, MetadataChange
from metadata.rules import Document, canonical_json
from metadata.selectors import content_type_for, rows_of
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
    with transaction.atomic():
        _lock(target)
        current = dict(rows_of(target).values_list("key", "value"))
        if if_match is not None and not _matches(current, if_match):
            raise PreconditionFailed()
        new = change(current)
        rules.check_document(new)
        _store(target, current, new, context)
    return dict(sorted(new.items()))


def _lock(target: Target) -> None:
    model = target.linkable.model
    locked = model.objects.select_for_update(no_key=True).filter(pk=target.pk)
    if not locked.values_list("pk", flat=True).exists():
        raise NotFound()


def _matches(current: Document, if_match: Iterable[str]) -> bool:
    tags = {tag.strip() for tag in if_match}
    return "*" in tags or rules.document_etag(current) in tags


def _same(a: Any, b: Any) -> bool:
    """JSON equality: `1`, `1.0` and `true` differ, as they do on the wire."""
    return canonical_json(a) == canonical_json(b)


def _store(target: Target, current: Document, new: Document, context: WriteContext) -> None:
    content_type = content_type_for(target.linkable)
    removed = [key for key in current if key not in new]
    written = {
        key: value
        for key, value in new.items()
        if key not in current or not _same(current[key], value)
    }
    if not removed and not written:
        return
    where = {"content_type": content_type, "object_id": target.object_id}
    if removed:
        rows_of(target).filter(key__in=removed).delete()
    if written:
        Metadata.objects.bulk_create(
            [
                Metadata(
                    **where,
                    key=key,
                    value=rules.canonical_value(value),
                    updated_by_id=context.actor_id,
                )
                for key, value in written.items()
            ],
            update_conflicts=True,
            unique_fields=("content_type", "object_id", "key"),
            update_fields=("value", "updated_at", "updated_by"),
        )
    changed = sorted([*removed, *written])
    audit = {"actor_id": context.actor_id, "door": context.door, "request_id": context.request_id}
    MetadataChange.objects.bulk_create(
        [
            MetadataChange(
                **where,
                **audit,
                key=key,
                existed_before=key in current,
                old_value=current.get(key),
                exists_after=key in new,
                new_value=new.get(key),
            )
            for key in changed
        ]
    )
    events.record_change(target=target, before=current, after=new, keys=changed, context=context)


def forget_object(*, linkable: Linkable, pk: Any) -> int:
    """Delete the rows of an object that is being deleted, so none outlives it.

    Its audit trail stays: history of what a deleted object carried is still support's to read.
    """
    content_type = content_type_for(linkable)
    deleted, _ = Metadata.objects.filter(content_type=content_type, object_id=str(pk)).delete()
    return deleted
