"""Reads: resolving identifiers to objects and reading their metadata.

With `metadata.services` the only code that touches `Metadata` rows. A read of a document
costs one query: the object, the caller's access and user state, and the object's rows, all
in the same statement (`read_document`).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, connections, router
from django.db.models import (
    Expression,
    F,
    Field,
    JSONField,
    OuterRef,
    Q,
    Subquery,
    TextField,
    UUIDField,
    Value,
)
from django.db.models.functions import MD5, Cast, Replace

from metadata import consistency, rules
from metadata.compiled import CompiledQuery, Placeholder, compile_query
from metadata.errors import InvalidBatch, InvalidLookup, KeyNotFound, NotFound, RuleViolation
from metadata.expressions import DocumentPairs, ObjectIdOf
from metadata.linkables import Linkable, Target, by_name
from metadata.models import APIKey, Metadata, PartnerClient, User
from metadata.permissions import Action, ReadScope, in_entity_scope, metadata_permission
from metadata.principals import (
    FLAG_COLUMNS,
    Principal,
    client_flag_annotations,
    flag_annotations,
    flag_placeholders,
    reach_condition,
    reaches,
    row_with_flags,
    served_condition,
    serves,
)
from metadata.rules import Document

LOOKUP_MAX_LIMIT = 100
MSG_LIMIT = "limit must be between 1 and {max}; it was {limit}"
MSG_CURSOR = "the pagination token is not one this lookup returned"
MSG_BATCH_SIZE = "a batch names 1 to {max} objects; this one names {count}"


def content_type_for(linkable: Linkable) -> ContentType:
    """Cached by Django after the first call; the registry's models are never proxies."""
    return ContentType.objects.get_for_model(linkable.model, for_concrete_model=True)


def _document_pairs(content_type_id: Any, object_id: Any) -> Any:
    """One object's rows as one row, its `pairs` column a `DocumentPairs` JSON text (no row
    when the object has no metadata)."""
    rows = Metadata.objects.filter(content_type_id=content_type_id, object_id=object_id)
    return (
        rows.order_by()
        .values("content_type_id")
        .annotate(pairs=DocumentPairs(F("key"), F("value")))
        .values("pairs")
    )


def _document_column(linkable: Linkable, content_type_id: Any) -> Subquery:
    """The linked object's `_document_pairs`, for a column of a query of its model."""
    object_id = ObjectIdOf(OuterRef("pk"), is_uuid=isinstance(linkable.model._meta.pk, UUIDField))
    return Subquery(_document_pairs(content_type_id, object_id))


def _as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _decode_pairs(text: str | None) -> Document:
    return dict(sorted(json.loads(text))) if text else {}


# Stand-ins while a target query is compiled; none can name a real object, user or type.
_SENTINEL_USER = uuid.UUID("00000000-0000-4000-8000-00005e471ae1")
_SENTINEL_KEYS = {
    "uuid": uuid.UUID("00000000-0000-4000-8000-00005e471ae2"),
    "integer": 9_223_372_036_854_775_001,
    "string": "\x00sentinel\x00",
}
_SENTINEL_CLIENT = uuid.UUID("00000000-0000-4000-8000-00005e471ae4")
_SENTINEL_API_KEY = uuid.UUID("00000000-0000-4000-8000-00005e471ae5")
_SENTINEL_CONTENT_TYPE = -5_471_001


@dataclass(frozen=True)
class _TargetShape:
    """What a target query's SQL depends on besides the type: the caller's values are
    bound per call."""

    with_flags: bool  # the caller's flags are not known yet
    with_document: bool
    for_client: bool  # a partner client's reach (the entities it serves), not a user's
    with_key: bool  # a client's token earned with an API key: the key must not be revoked


_compiled_targets: dict[tuple[str, _TargetShape, str], CompiledQuery] = {}


def _target_query(linkable: Linkable, shape: _TargetShape, bound: dict[str, Any]) -> Any:
    """The object with the caller's reach, the caller's flags when not yet known (the
    permissions' ids bound too, `principals.flag_values`), and the object's document when
    asked for."""
    if shape.for_client:
        reachable = serves(linkable.entity_field or "pk", bound["client_id"])
    else:
        reachable = reaches(linkable.model, linkable.reach, bound["user_id"])
    rows = linkable.model.objects.filter(**{linkable.identifier_field: bound["key"]}).annotate(
        target_reachable=reachable
    )
    fields = ["pk", linkable.entity_field or "pk", "target_reachable"]
    if shape.with_document:
        document = _document_column(linkable, bound["content_type_id"])
        rows = rows.annotate(target_document=document)
        fields.append("target_document")
    if shape.with_flags:
        if shape.for_client:
            api_key_id = bound["api_key_id"] if shape.with_key else None
            flags = client_flag_annotations(bound["user_id"], bound["client_id"], api_key_id)
        else:
            flag_ids = {name: bound[name] for name in flag_placeholders()}
            flags = flag_annotations(bound["user_id"], **flag_ids)
        rows = rows.annotate(**flags)
        fields += FLAG_COLUMNS
    return rows.order_by().values_list(*fields)[:1]


def _identifier_field(linkable: Linkable) -> Field:
    meta = linkable.model._meta
    return (
        meta.pk if linkable.identifier_field == "pk" else meta.get_field(linkable.identifier_field)
    )


def _compiled_target_query(linkable: Linkable, shape: _TargetShape) -> CompiledQuery:
    alias = router.db_for_read(linkable.model)
    cache_key = (linkable.name, shape, connections[alias].vendor)
    if cache_key not in _compiled_targets:
        placeholders = {
            "key": Placeholder(
                _SENTINEL_KEYS[linkable.identifier_kind], _identifier_field(linkable)
            ),
        }
        if shape.with_flags or not shape.for_client:
            placeholders["user_id"] = Placeholder(_SENTINEL_USER, User._meta.pk)
        if shape.for_client:
            placeholders["client_id"] = Placeholder(_SENTINEL_CLIENT, PartnerClient._meta.pk)
        if shape.with_key:
            placeholders["api_key_id"] = Placeholder(_SENTINEL_API_KEY, APIKey._meta.pk)
        if shape.with_document:
            placeholders["content_type_id"] = Placeholder(
                _SENTINEL_CONTENT_TYPE, ContentType._meta.pk
            )
        if shape.with_flags and not shape.for_client:
            placeholders.update(flag_placeholders())
        _compiled_targets[cache_key] = compile_query(
            lambda **bound: _target_query(linkable, shape, bound), placeholders, alias
        )
    return _compiled_targets[cache_key]


def _resolve(
    linkable: Linkable, identifier: str, principal: Principal, *, with_document: bool
) -> tuple[Target, Document] | None:
    if principal.is_client and linkable.entity_field is None:
        # A partner client reaches nothing outside the entities it serves: such an object
        # answers as missing, and nothing is looked up that could tell it exists.
        return None
    try:
        key = linkable.parse_identifier(identifier)
    except (TypeError, ValueError):
        return None
    with_flags = not principal.flags_loaded
    shape = _TargetShape(
        with_flags=with_flags,
        with_document=with_document,
        for_client=principal.is_client,
        with_key=with_flags and principal.is_client and principal.api_key_id is not None,
    )
    compiled = _compiled_target_query(linkable, shape)
    values: dict[str, Any] = {
        "key": key,
        "user_id": principal.user_id,
        "client_id": principal.client_id,
        "api_key_id": principal.api_key_id,
    }
    if with_document:
        values["content_type_id"] = content_type_for(linkable).pk
    if with_flags:
        row, flags = row_with_flags(compiled, **values)
        if flags is not None:
            principal.prime(flags)
    else:
        rows = compiled.rows(**values)
        row = rows[0] if rows else None
    if row is None:
        return None
    pk, entity_id, reachable, *document_column = row
    document = _decode_pairs(document_column[0]) if with_document else {}
    pk = linkable.model._meta.pk.to_python(pk)
    target = Target(
        linkable=linkable,
        pk=pk,
        identifier=str(pk) if linkable.identifier_field == "pk" else str(key),
        entity_id=_as_uuid(entity_id) if linkable.entity_field else None,
        reachable=bool(reachable),
    )
    return target, document


def find_target(*, linkable: Linkable, identifier: str, principal: Principal) -> Target | None:
    """The object an identifier names, or None when it is malformed or names nothing.

    One query, compiled once per type: the object, whether the principal reaches it, and
    (when not known yet) the principal's own flags.
    """
    found = _resolve(linkable, identifier, principal, with_document=False)
    return found[0] if found else None


def reach_filter(linkable: Linkable, principal: Principal) -> Q:
    """The objects of one type the principal reaches with account-user level access (a
    partner client: the objects of the entities it serves)."""
    if not principal.is_client:
        return reach_condition(linkable.reach, principal.user_id)
    if linkable.entity_field is None:
        return Q(pk__in=[])
    return served_condition(linkable.entity_field, principal.client_id)


def target_for_object(*, obj: Any, linkable: Linkable, principal: Principal) -> Target:
    """A target for an object already loaded (the admin has the instance in hand)."""
    reachable = (
        linkable.model.objects.filter(pk=obj.pk).filter(reach_filter(linkable, principal)).exists()
    )
    return Target(
        linkable=linkable,
        pk=obj.pk,
        identifier=linkable.identifier_of(obj),
        entity_id=getattr(obj, linkable.entity_field) if linkable.entity_field else None,
        reachable=reachable,
    )


def open_target(
    *,
    principal: Principal | None,
    linkable: Linkable,
    identifier: str,
    action: Action,
    entity_scope: str | None = None,
) -> Target:
    """Resolve and authorise in the contract's order; raise the first error that applies."""
    target = None
    if principal is not None:
        target = find_target(linkable=linkable, identifier=identifier, principal=principal)
    return metadata_permission.check(principal, target, action, entity_scope=entity_scope)


def read_document(
    *,
    principal: Principal | None,
    linkable: Linkable,
    identifier: str,
    entity_scope: str | None = None,
) -> Document:
    """`open_target` for reading and `get_document`, in one query: what a GET costs.

    The rows come back with the object; they leave this function only once the permission
    has allowed the read.
    """
    found = None
    if principal is not None:
        found = _resolve(linkable, identifier, principal, with_document=True)
    target, document = found if found else (None, {})
    metadata_permission.check(principal, target, Action.READ, entity_scope=entity_scope)
    return document


def rows_of(target: Target) -> Any:
    return Metadata.objects.filter(
        content_type=content_type_for(target.linkable), object_id=target.object_id
    )


_compiled_documents: dict[str, CompiledQuery] = {}


def get_document(*, target: Target) -> Document:
    """The whole document, keys in order: one query (compiled once), one row, one JSON text
    to decode, as `read_document` reads it."""
    alias = router.db_for_read(Metadata)
    vendor = connections[alias].vendor
    if vendor not in _compiled_documents:
        meta = Metadata._meta
        _compiled_documents[vendor] = compile_query(
            _document_pairs,
            {
                "content_type_id": Placeholder(-1, meta.get_field("content_type").target_field),
                "object_id": Placeholder("\x00sentinel\x00", meta.get_field("object_id")),
            },
            alias,
        )
    rows = _compiled_documents[vendor].rows(
        content_type_id=content_type_for(target.linkable).pk, object_id=target.object_id
    )
    return _decode_pairs(rows[0][0]) if rows else {}


def get_value(*, target: Target, key: str) -> Any:
    """One key's value; `KeyNotFound` when the object has no such key."""
    values = list(rows_of(target).filter(key=key).values_list("value", flat=True)[:1])
    if not values:
        raise KeyNotFound(f"The object has no metadata under the key {key!r}.")
    return values[0]


@dataclass(frozen=True)
class LookupPage:
    """One page of a lookup: (identifier, document) pairs in identifier order."""

    items: list[tuple[str, Document]]
    next_cursor: str | None


def encode_cursor(identifier: str) -> str:
    return base64.urlsafe_b64encode(identifier.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as error:
        raise InvalidLookup(MSG_CURSOR) from error


def _linked_pk(linkable: Linkable) -> Expression:
    """`Metadata.object_id` as the linked model's primary key, so the pk index joins it.

    SQLite keeps UUIDs as 32 hex digits while `object_id` holds the dashed form.
    """
    pk_field = linkable.model._meta.pk
    if isinstance(pk_field, UUIDField) and connection.vendor == "sqlite":
        return Replace(F("object_id"), Value("-"), Value(""))
    return Cast("object_id", output_field=type(pk_field)())


def value_hash(expression: Any) -> MD5:
    """The expression the PostgreSQL lookup index holds: md5 of the jsonb text."""
    return MD5(Cast(expression, output_field=TextField()))


def _value_filter(values: Sequence[Any]) -> Q:
    """Any of the values, by JSON equality; a JSON `null` is stored as SQL NULL.

    On PostgreSQL the hash of each value is compared first, so the index on
    (content type, key, md5(value)) finds the rows; the equality check then rules out
    collisions. SQLite's composite index covers `value` itself.
    """
    condition = Q(value__isnull=True) if any(v is None for v in values) else Q(pk__in=[])
    concrete = [rules.canonical_value(v) for v in values if v is not None]
    if not concrete:
        return condition
    if connection.vendor == "postgresql":
        hashed = Q(pk__in=[])
        for value in concrete:
            probe = value_hash(Value(value, output_field=JSONField()))
            hashed |= Q(value_hash=probe)
        return condition | (hashed & Q(value__in=concrete))
    return condition | Q(value__in=concrete)


def matching_rows(
    *, linkable: Linkable, key: str, values: Sequence[Any] | None, content_type_id: Any = None
) -> Any:
    """The metadata rows of one type with `key`, equal to any of `values` when given."""
    if content_type_id is None:
        content_type_id = content_type_for(linkable).pk
    rows = Metadata.objects.filter(content_type_id=content_type_id, key=key)
    if connection.vendor == "postgresql":
        rows = rows.alias(value_hash=value_hash("value"))
    if values:
        rows = rows.filter(_value_filter(values))
    return rows


@dataclass(frozen=True)
class _LookupShape:
    """What a lookup's SQL depends on; the key, the values, the caller, the cursor and the
    scope are bound per call."""

    linkable: str
    alias: str
    scope: ReadScope  # ALL, USER or CLIENT (NOTHING runs no query)
    values: int  # values other than null
    with_null: bool
    after: bool
    scoped: bool
    limit: int


_SENTINEL_SCOPE = uuid.UUID("00000000-0000-4000-8000-00005e471ae3")
_SENTINEL_LOOKUP_KEY = "\x00sentinel key\x00"


def _sentinel_value(index: int) -> str:
    return f"\x00sentinel value {index}\x00"


def _lookup_query(shape: _LookupShape, bound: dict[str, Any]) -> Any:
    """One page of a lookup and each object's document, as one queryset (see `lookup`)."""
    linkable = by_name(shape.linkable)
    values = [bound[f"value_{index}"] for index in range(shape.values)]
    rows = matching_rows(
        linkable=linkable,
        key=bound["key"],
        values=[None] * shape.with_null + values,
        content_type_id=bound["content_type_id"],
    )
    objects = linkable.model.objects.filter(
        pk__in=rows.order_by().values(linked=_linked_pk(linkable))
    )
    if shape.scope is ReadScope.USER:
        objects = objects.filter(reach_condition(linkable.reach, bound["user_id"]))
    elif shape.scope is ReadScope.CLIENT and linkable.entity_field is not None:
        objects = objects.filter(served_condition(linkable.entity_field, bound["client_id"]))
    if shape.scoped and linkable.entity_field:
        objects = objects.filter(**{linkable.entity_field: bound["scope"]})
    order = linkable.identifier_field
    if shape.after:
        objects = objects.filter(**{f"{order}__gt": bound["after"]})
    document = _document_column(linkable, bound["content_type_id"])
    return (
        objects.annotate(target_document=document)
        .order_by(order)
        .values_list(order, "target_document")[: shape.limit + 1]
    )


@functools.lru_cache(maxsize=256)  # shapes differ by the number of values and the page size
def _compiled_lookup(shape: _LookupShape) -> CompiledQuery:
    linkable = by_name(shape.linkable)
    meta = linkable.model._meta
    value_field = Metadata._meta.get_field("value")
    placeholders = {
        "content_type_id": Placeholder(_SENTINEL_CONTENT_TYPE, ContentType._meta.pk),
        "key": Placeholder(_SENTINEL_LOOKUP_KEY, Metadata._meta.get_field("key")),
        **{
            f"value_{index}": Placeholder(_sentinel_value(index), value_field)
            for index in range(shape.values)
        },
    }
    if shape.scope is ReadScope.USER:
        placeholders["user_id"] = Placeholder(_SENTINEL_USER, User._meta.pk)
    elif shape.scope is ReadScope.CLIENT:
        placeholders["client_id"] = Placeholder(_SENTINEL_CLIENT, PartnerClient._meta.pk)
    if shape.scoped and linkable.entity_field:
        # An entity's own scope is its primary key, named "pk", which `get_field` cannot find.
        scope_field = (
            meta.pk if linkable.entity_field == "pk" else meta.get_field(linkable.entity_field)
        )
        placeholders["scope"] = Placeholder(_SENTINEL_SCOPE, scope_field)
    if shape.after:
        sentinel = _SENTINEL_KEYS[linkable.identifier_kind]
        placeholders["after"] = Placeholder(sentinel, _identifier_field(linkable))
    return compile_query(lambda **bound: _lookup_query(shape, bound), placeholders, shape.alias)


def lookup(
    *,
    principal: Principal | None,
    linkable: Linkable,
    key: str,
    values: Sequence[Any] | None = None,
    limit: int = LOOKUP_MAX_LIMIT,
    cursor: str | None = None,
    entity_scope: str | None = None,
) -> LookupPage:
    """Objects of one type that have `key` (equal to any of `values`, when given).

    Only objects the principal may read are returned or counted; reads the primary's
    committed rows, so a write is found by the next lookup. The page and each object's
    document come back in one query, compiled once per shape (`_LookupShape`).
    """
    principal = metadata_permission.authenticate(principal)
    scope = metadata_permission.readable_scope(principal, linkable)
    violations = rules.key_violations(key, ("key",))
    for index, value in enumerate(values or ()):
        violations += rules.value_violations(value, ("value", index))
    if violations:
        raise RuleViolation(violations)
    if not 1 <= limit <= LOOKUP_MAX_LIMIT:
        raise InvalidLookup(MSG_LIMIT.format(max=LOOKUP_MAX_LIMIT, limit=limit))
    concrete = [rules.canonical_value(value) for value in values or () if value is not None]
    bound: dict[str, Any] = {
        "content_type_id": content_type_for(linkable).pk,
        "key": key,
        "user_id": principal.user_id,
        "client_id": principal.client_id,
        **{f"value_{index}": value for index, value in enumerate(concrete)},
    }
    scoped = entity_scope is not None and linkable.entity_field is not None
    if scoped:
        try:
            bound["scope"] = uuid.UUID(str(entity_scope).strip())
        except ValueError as error:
            raise NotFound() from error
    if cursor is not None:
        try:
            bound["after"] = linkable.parse_identifier(decode_cursor(cursor))
        except (TypeError, ValueError) as error:
            raise InvalidLookup(MSG_CURSOR) from error
    if scope is ReadScope.NOTHING:
        return LookupPage(items=[], next_cursor=None)
    with consistency.primary_reads():  # strongly consistent (contract section 9)
        shape = _LookupShape(
            linkable=linkable.name,
            alias=router.db_for_read(linkable.model),
            scope=scope,
            values=len(concrete),
            with_null=any(value is None for value in values or ()),
            after=cursor is not None,
            scoped=scoped,
            limit=limit,
        )
        page = _compiled_lookup(shape).rows(**bound)
    more = len(page) > limit
    to_python = _identifier_field(linkable).to_python  # SQLite gives UUIDs as hex digits
    items = [
        (str(to_python(identifier)), _decode_pairs(pairs)) for identifier, pairs in page[:limit]
    ]
    next_cursor = encode_cursor(items[-1][0]) if more else None
    return LookupPage(items=items, next_cursor=next_cursor)


BATCH_MAX_ITEMS = 100


@dataclass(frozen=True)
class Found:
    """One object a batch names: its target, and its document when it was read with it."""

    target: Target
    document: Document


def find_targets(
    *,
    linkable: Linkable,
    identifiers: Sequence[str],
    principal: Principal,
    lock: bool = False,
    with_documents: bool = False,
    using: str | None = None,
) -> dict[str, Found]:
    """The objects of one type that `identifiers` name, by identifier as sent: one query.

    Only objects the principal may read come back (others, like malformed identifiers, are
    missing from the answer: a missing and an unreadable object look the same). With
    `lock`, the rows are locked `FOR NO KEY UPDATE` in primary-key order, so batches that
    name overlapping objects in any order queue instead of deadlocking. The documents are
    never read in the locking statement: its snapshot predates the wait for the lock.
    """
    if principal.is_client and linkable.entity_field is None:
        return {}
    keys: dict[Any, list[str]] = {}
    for identifier in identifiers:
        try:
            key = linkable.parse_identifier(identifier)
        except (TypeError, ValueError):
            continue
        keys.setdefault(key, []).append(identifier)
    if not keys:
        return {}
    if principal.is_client:
        reachable = serves(linkable.entity_field or "pk", principal.client_id)
    else:
        reachable = reaches(linkable.model, linkable.reach, principal.user_id)
    alias = using or router.db_for_read(linkable.model)
    rows = (
        linkable.model.objects.using(alias)
        .filter(**{f"{linkable.identifier_field}__in": list(keys)})
        .annotate(target_reachable=reachable)
    )
    if not metadata_permission.may_view_any(principal):
        rows = rows.filter(reach_filter(linkable, principal))  # nothing else is even locked
    fields = ["pk", linkable.identifier_field, linkable.entity_field or "pk", "target_reachable"]
    if with_documents:
        rows = rows.annotate(
            target_document=_document_column(linkable, content_type_for(linkable).pk)
        )
        fields.append("target_document")
    if lock:
        rows = rows.select_for_update(no_key=True, of=("self",))
    found: dict[str, Found] = {}
    for pk, key, entity_id, reachable_, *document in rows.order_by("pk").values_list(*fields):
        target = Target(
            linkable=linkable,
            pk=pk,
            identifier=str(key),
            entity_id=_as_uuid(entity_id) if linkable.entity_field else None,
            reachable=bool(reachable_),
        )
        decoded = _decode_pairs(document[0]) if with_documents else {}
        for identifier in keys.get(key, ()):
            found[identifier] = Found(target=target, document=decoded)
    return found


def get_documents(*, targets: Sequence[Target], using: str | None = None) -> list[Document]:
    """The documents of several objects (any mix of types), in the order of `targets`: one
    query."""
    condition = Q(pk__in=[])
    for linkable, object_ids in _object_ids_by_type(targets).items():
        condition |= Q(content_type_id=content_type_for(linkable).pk, object_id__in=object_ids)
    documents: dict[tuple[int, str], Document] = {}
    rows = Metadata.objects.using(using or router.db_for_read(Metadata)).filter(condition)
    for content_type_id, object_id, key, value in rows.order_by().values_list(
        "content_type_id", "object_id", "key", "value"
    ):
        documents.setdefault((content_type_id, object_id), {})[key] = value
    return [
        dict(
            sorted(
                documents.get((content_type_for(target.linkable).pk, target.object_id), {}).items()
            )
        )
        for target in targets
    ]


def _object_ids_by_type(targets: Sequence[Target]) -> dict[Linkable, list[str]]:
    by_type: dict[Linkable, list[str]] = {}
    for target in targets:
        by_type.setdefault(target.linkable, []).append(target.object_id)
    return by_type


def read_documents(
    *,
    principal: Principal | None,
    linkable: Linkable,
    identifiers: Sequence[str],
    entity_scope: str | None = None,
) -> list[tuple[str, Document]]:
    """The documents of the readable objects among `identifiers`, in their order (each
    once), the others omitted: one query for the objects, the caller's reach and the
    documents (plus one for the caller's state when not known yet)."""
    principal = metadata_permission.authenticate(principal)
    if not 1 <= len(identifiers) <= BATCH_MAX_ITEMS:
        raise InvalidBatch(MSG_BATCH_SIZE.format(max=BATCH_MAX_ITEMS, count=len(identifiers)))
    found = find_targets(
        linkable=linkable, identifiers=identifiers, principal=principal, with_documents=True
    )
    answered: list[tuple[str, Document]] = []
    seen: set[Any] = set()
    for identifier in identifiers:
        item = found.get(identifier)
        if item is None or item.target.pk in seen:
            continue
        if not in_entity_scope(item.target, entity_scope):
            continue
        seen.add(item.target.pk)
        answered.append((item.target.identifier, item.document))
    return answered
