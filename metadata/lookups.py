"""Lookup by metadata (contract section 9): the objects of one type that carry a key (equal
to any of some values), a page at a time, with their documents.

Plain ORM, two queries a page: the page of objects, filtered by the caller's reach in the
database, then the page's documents.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, router
from django.db.models import Expression, F, JSONField, Q, TextField, UUIDField, Value
from django.db.models.functions import MD5, Cast, Replace

from metadata import consistency, rules
from metadata.errors import InvalidLookup, NotFound, RuleViolation
from metadata.linkables import Linkable
from metadata.models import Metadata
from metadata.permissions import ReadScope, metadata_permission
from metadata.principals import Principal, reach_filter
from metadata.rules import Document
from metadata.selectors import content_type_for
from metadata.sql import batches as sql_batches

LOOKUP_MAX_LIMIT = 100
MSG_LIMIT = "limit must be between 1 and {max}; it was {limit}"
MSG_CURSOR = "the pagination token is not one this lookup returned"


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
            hashed |= Q(value_hash=value_hash(Value(value, output_field=JSONField())))
        return condition | (hashed & Q(value__in=concrete))
    return condition | Q(value__in=concrete)


def matching_rows(*, linkable: Linkable, key: str, values: Sequence[Any] | None) -> Any:
    """The metadata rows of one type with `key`, equal to any of `values` when given."""
    rows = Metadata.objects.filter(content_type_id=content_type_for(linkable).pk, key=key)
    if connection.vendor == "postgresql":
        rows = rows.alias(value_hash=value_hash("value"))
    if values:
        rows = rows.filter(_value_filter(values))
    return rows


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
    committed rows, so a write is found by the next lookup.
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
    order = linkable.identifier_field
    objects = linkable.model.objects.all()
    if entity_scope is not None and linkable.entity_field is not None:
        try:
            objects = objects.filter(**{linkable.entity_field: uuid.UUID(entity_scope.strip())})
        except ValueError as error:
            raise NotFound() from error
    if cursor is not None:
        try:
            after = linkable.parse_identifier(decode_cursor(cursor))
        except (TypeError, ValueError) as error:
            raise InvalidLookup(MSG_CURSOR) from error
        objects = objects.filter(**{f"{order}__gt": after})
    if scope is ReadScope.NOTHING:
        return LookupPage(items=[], next_cursor=None)
    if scope is not ReadScope.ALL:
        objects = objects.filter(reach_filter(linkable, principal))
    rows = matching_rows(linkable=linkable, key=key, values=values)
    objects = objects.filter(pk__in=rows.order_by().values(linked=_linked_pk(linkable)))
    with consistency.primary_reads():  # strongly consistent (contract section 9)
        alias = router.db_for_read(linkable.model)
        page = list(objects.using(alias).order_by(order).values_list("pk", order)[: limit + 1])
        documents = _documents(linkable, [pk for pk, _ in page[:limit]], alias)
    items = [(str(identifier), documents.get(str(pk), {})) for pk, identifier in page[:limit]]
    next_cursor = encode_cursor(items[-1][0]) if len(page) > limit else None
    return LookupPage(items=items, next_cursor=next_cursor)


def _documents(linkable: Linkable, pks: Sequence[Any], alias: str) -> dict[str, Document]:
    """The documents of a page's objects, by `object_id`, keys in order: the statement a
    batch reads its documents with (`metadata.sql.batches`)."""
    content_type_id = content_type_for(linkable).pk
    found = sql_batches.documents(objects=[(content_type_id, str(pk)) for pk in pks], alias=alias)
    return {object_id: document for (_, object_id), document in found.items()}
