"""Writes: every change to `Metadata` rows, from every door.

Each write locks the linked object's row, reads the document, builds the document as it
will be, checks the rules on *that* (the entries it changes, and the size of the whole), and
writes only the keys that changed, with an audit entry per key and one change event (the
webhook outbox), in one transaction. Concurrent writers of one object queue on the lock, so
no key is lost and the size rule holds for the document as committed. The statements are
`metadata.sql`'s; batches of many objects (`metadata.batches`) store through `store` too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import router, transaction
from django.utils import timezone

from metadata import consistency, rules
from metadata.errors import KeyExists, NotFound, PreconditionFailed
from metadata.linkables import Linkable, Target
from metadata.models import Metadata, WriteContext
from metadata.rules import Document
from metadata.selectors import content_type_for, get_document
from metadata.sql import writes
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


def check_digest(current: Document, key: str, expected_digest: str | None) -> None:
    """Refuse a write whose caller read another value of `key` (`rules.value_digest`)."""
    if expected_digest is None:
        return
    stored = rules.value_digest(current[key]) if key in current else None
    if stored != expected_digest:
        raise PreconditionFailed(
            f"The value of {key!r} has changed since you read it; read it again."
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

    `create_only` refuses an existing key; `expected_digest` refuses the write when the
    stored value is no longer the one the caller read.
    """
    rules.check_entry(key, value)

    def change(current: Document) -> Document:
        if create_only and key in current:
            raise KeyExists(f"The key {key!r} already exists; use updateMetadata to change it.")
        check_digest(current, key, expected_digest)
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
        if not writes.lock(linkable=target.linkable, pk=target.pk, alias=alias):
            raise NotFound()
        current = get_document(target=target, using=alias)  # after the lock: no writer between
        if if_match is not None and not matches(current, if_match):
            raise PreconditionFailed()
        new = change(current)
        written = written_entries(current, new)
        rules.check_document(new, entries=written)
        store([(target, current, new, written)], context, alias)
    return dict(sorted(new.items()))


def matches(current: Document, if_match: Iterable[str]) -> bool:
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


def written_entries(current: Document, new: Document) -> dict[str, Any]:
    """The entries of `new` that are not in `current` as they are: what a write stores."""
    return {
        key: value
        for key, value in new.items()
        if key not in current or (current[key] is not value and not _same(current[key], value))
    }


def store(
    edits: Sequence[tuple[Target, Document, Document, dict[str, Any]]],
    context: WriteContext,
    alias: str,
) -> None:
    """Store each (target, current, new, written) that changes anything: its rows, an audit
    entry per changed key (in key order; its event carries the same entries as `changes`)
    and one event, in one go (`metadata.sql.writes.store`)."""
    at = timezone.now()
    changes = []
    for target, current, new, written in edits:
        removed = [key for key in current if key not in new]
        if not removed and not written:
            continue
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
        event_id, event = events.change_event(
            target=target, before=current, after=new, changes=audit, context=context, at=at
        )
        changes.append(
            writes.Change(
                content_type_id=content_type_for(target.linkable).pk,
                object_id=target.object_id,
                removed=removed,
                written=written,
                audit=audit,
                event_id=event_id,
                event=event,
            )
        )
    if changes:
        writes.store(
            changes,
            actor_id=context.actor_id,
            door=str(context.door),
            request_id=context.request_id,
            at=at,
            alias=alias,
        )


def forget_object(*, linkable: Linkable, pk: Any) -> int:
    """Delete the rows of an object that is being deleted, so none outlives it.

    Its audit trail stays: history of what a deleted object carried is still support's to read.
    """
    content_type = content_type_for(linkable)
    deleted, _ = Metadata.objects.filter(content_type=content_type, object_id=str(pk)).delete()
    return deleted
