"""Batches (contract section 12): the metadata of many objects, read or written at once.

A batch write does what `metadata.services` does for one object, for up to 100 objects in one
transaction. It locks them all in one fixed order (content type, then primary key), so batches
that overlap in any order queue instead of deadlocking, and it costs a fixed number of
statements whatever its size. Either every item is written or none is: a refused batch lists
every refused item (`BatchRefused`), each with the error its single write would have raised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import router, transaction

from metadata import consistency, rules
from metadata.errors import (
    BatchRefused,
    InvalidBatch,
    ItemRefusal,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    RuleViolation,
    Violation,
)
from metadata.linkables import Linkable, Target
from metadata.models import Metadata, WriteContext
from metadata.permissions import Action, in_entity_scope, metadata_permission
from metadata.principals import Principal
from metadata.rules import Document
from metadata.selectors import content_type_for
from metadata.services import Entry, check_digest, matches, store, written_entries
from metadata.sql import batches as sql_batches

BATCH_MAX_ITEMS = 100
MSG_BATCH_SIZE = "a batch names 1 to {max} objects; this one names {count}"


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


def _check_size(count: int) -> None:
    if not 1 <= count <= BATCH_MAX_ITEMS:
        raise InvalidBatch(MSG_BATCH_SIZE.format(max=BATCH_MAX_ITEMS, count=count))


def find_targets(
    *,
    linkable: Linkable,
    identifiers: Sequence[str],
    principal: Principal,
    lock: bool = False,
    using: str | None = None,
) -> dict[str, Target]:
    """The objects of one type that `identifiers` name, by identifier as sent: one statement
    (`metadata.sql.batches.TARGETS`).

    Only objects the principal may read come back (others, like malformed identifiers, are
    missing from the answer: a missing and an unreadable object look the same). With
    `lock`, the rows are locked in primary-key order, so batches that name overlapping
    objects in any order queue instead of deadlocking.
    """
    if principal.is_client and linkable.entity_field is None:
        return {}
    keys: dict[Any, list[str]] = {}
    for identifier in identifiers:
        try:
            keys.setdefault(linkable.parse_identifier(identifier), []).append(identifier)
        except (TypeError, ValueError):
            continue
    if not keys:
        return {}
    found: dict[str, Target] = {}
    for pk, key, entity_id, reachable in sql_batches.targets(
        linkable=linkable,
        keys=list(keys),
        caller=principal.caller,
        only_reached=not metadata_permission.may_view_any(principal),
        lock=lock,
        alias=using or router.db_for_read(linkable.model),
    ):
        target = Target(
            linkable=linkable,
            pk=pk,
            identifier=str(key),
            entity_id=entity_id,
            reachable=reachable,
        )
        for identifier in keys.get(key, ()):
            found[identifier] = target
    return found


def get_documents(*, targets: Sequence[Target], using: str | None = None) -> list[Document]:
    """The documents of several objects (any mix of types), in the order of `targets`: one
    statement (`metadata.sql.batches`)."""
    pairs = [(content_type_for(t.linkable).pk, t.object_id) for t in targets]
    found = sql_batches.documents(objects=pairs, alias=using or router.db_for_read(Metadata))
    return [dict(found.get(pair, {})) for pair in pairs]


def read_documents(
    *,
    principal: Principal | None,
    linkable: Linkable,
    identifiers: Sequence[str],
    entity_scope: str | None = None,
) -> list[tuple[str, Document]]:
    """The documents of the readable objects among `identifiers`, in their order (each
    once), the others omitted: one query for the objects and the caller's reach, one for the
    documents (plus one for the caller's state when not known yet)."""
    principal = metadata_permission.authenticate(principal)
    _check_size(len(identifiers))
    found = find_targets(linkable=linkable, identifiers=identifiers, principal=principal)
    targets: list[Target] = []
    for identifier in identifiers:
        target = found.get(identifier)
        if target is None or target in targets or not in_entity_scope(target, entity_scope):
            continue
        targets.append(target)
    documents = get_documents(targets=targets) if targets else []
    return [(t.identifier, d) for t, d in zip(targets, documents, strict=True)]


def merge_documents(
    *,
    principal: Principal | None,
    items: Sequence[MergeItem],
    context: WriteContext,
    entity_scope: str | None = None,
) -> list[Written]:
    """PATCH of many objects: each item as `services.merge_document` would apply it, all in
    one transaction; each object at most once. Any refused item refuses the whole batch
    (`BatchRefused`, listing every refused item) and nothing is written."""

    def edit(index: int, current: Document) -> Document:
        item = items[index]
        if item.if_match is not None and not matches(current, item.if_match):
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
    """`services.set_key` of many pairs (any mix of objects and types) in one transaction;
    pairs of one object apply in order, and the size rule holds for its document with all of
    them. All or nothing, as `merge_documents`."""

    def edit(index: int, current: Document) -> Document:
        item = items[index]
        rules.check_entry(item.key, item.value)
        check_digest(current, item.key, item.expected_digest)
        return {**current, item.key: item.value}

    return _write_batch(principal, items, edit, context, entity_scope, one_per_object=False)


def delete_key_of_objects(
    *, targets: Sequence[Target], key: str, context: WriteContext
) -> list[Entry | None]:
    """Remove one key from several objects already authorised (the admin's action), in one
    transaction: the removed pairs, in the order of `targets` (None where there was none)."""
    alias = router.db_for_write(Metadata)
    with transaction.atomic(using=alias):
        transaction.on_commit(lambda: consistency.wrote(context.actor_id), using=alias)
        ordered = sorted({_identity(t): t for t in targets}.values(), key=_lock_order)
        for linkable in dict.fromkeys(target.linkable for target in ordered):
            pks = [target.pk for target in ordered if target.linkable is linkable]
            _lock(linkable, pks, alias)
        currents = get_documents(targets=ordered, using=alias)
        documents = dict(zip(map(_identity, ordered), currents, strict=True))
        store(
            [
                (target, current, {k: v for k, v in current.items() if k != key}, {})
                for target, current in zip(ordered, currents, strict=True)
            ],
            context,
            alias,
        )
    removed: list[Entry | None] = []
    for target in targets:
        current = documents[_identity(target)]
        removed.append(Entry(key=key, value=current[key]) if key in current else None)
    return removed


def _lock(linkable: Linkable, pks: Sequence[Any], alias: str) -> None:
    rows = linkable.model.objects.using(alias).filter(pk__in=pks).select_for_update(no_key=True)
    list(rows.order_by("pk").values_list("pk"))


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
    _check_size(len(items))
    alias = router.db_for_write(Metadata)
    refusals: list[ItemRefusal] = []
    with transaction.atomic(using=alias):
        transaction.on_commit(lambda: consistency.wrote(context.actor_id), using=alias)
        targets = _lock_targets(principal, items, alias)
        groups: dict[tuple[str, str], list[int]] = {}
        for index, target in enumerate(targets):
            try:
                metadata_permission.check(
                    principal, target, Action.WRITE, entity_scope=entity_scope
                )
            except (NotFound, PermissionDenied) as error:
                refusals.append(ItemRefusal(index, error))
                continue
            assert target is not None
            group = groups.setdefault(_identity(target), [])
            if group and one_per_object:
                refusals.append(ItemRefusal(index, _duplicate(group[0])))
                continue
            group.append(index)
        firsts = [targets[indices[0]] for indices in groups.values()]
        currents = get_documents(targets=firsts, using=alias)  # under the locks
        writes = []
        documents: dict[tuple[str, str], Document] = {}
        for indices, target, current in zip(groups.values(), firsts, currents, strict=True):
            assert target is not None
            new, item_refusals = _edited(indices, current, edit)
            refusals += item_refusals
            if item_refusals:
                continue
            written = written_entries(current, new)
            try:
                rules.check_document(new, entries=written)
            except RuleViolation as error:
                refusals.extend(ItemRefusal(index, error) for index in indices)
                continue
            documents[_identity(target)] = dict(sorted(new.items()))
            writes.append((target, current, new, written))
        if refusals:
            raise BatchRefused(sorted(refusals, key=lambda refusal: refusal.index))
        store(writes, context, alias)
    return [
        Written(target=target, document=documents[_identity(target)])
        for target in targets
        if target is not None
    ]


def _edited(
    indices: Sequence[int], current: Document, edit: Callable[[int, Document], Document]
) -> tuple[Document, list[ItemRefusal]]:
    """One object's items applied in order, and the refusal of each item that failed."""
    new, refusals = current, []
    for index in indices:
        try:
            new = edit(index, new)
        except (RuleViolation, PreconditionFailed) as error:
            refusals.append(ItemRefusal(index, error))
    return new, refusals


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
        for identifier, target in find_targets(
            linkable=linkable,
            identifiers=by_type[linkable],
            principal=principal,
            lock=True,
            using=alias,
        ).items():
            found[(linkable.name, identifier)] = target
    return [found.get((item.linkable.name, item.identifier)) for item in items]
