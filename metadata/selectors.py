"""Reads: resolving identifiers to objects and reading their metadata.

With `metadata.services` the only code that touches `Metadata` rows (lookups and batches have
modules of their own). A read of a document costs one statement: the object, the caller's
access and state, and the object's rows together (`metadata.sql.reads.READ`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import router

from metadata.errors import KeyNotFound
from metadata.linkables import Linkable, Target
from metadata.models import Metadata
from metadata.permissions import Action, metadata_permission
from metadata.principals import INACTIVE, Flags, Principal, reach_filter
from metadata.rules import Document
from metadata.sql import reads, writes


def content_type_for(linkable: Linkable) -> ContentType:
    """Cached by Django after the first call; the registry's models are never proxies."""
    return ContentType.objects.get_for_model(linkable.model, for_concrete_model=True)


def _resolve(
    linkable: Linkable, identifier: str, principal: Principal, *, with_document: bool
) -> tuple[Target, Document] | None:
    """The object an identifier names, with the principal's reach to it, in one statement
    that also states the principal's flags (kept on the principal for the checks)."""
    if principal.is_client and linkable.entity_field is None:
        # A partner client reaches nothing outside the entities it serves: such an object
        # answers as missing, and nothing is looked up that could tell it exists.
        return None
    try:
        key = linkable.parse_identifier(identifier)
    except (TypeError, ValueError):
        return None
    row = reads.read(
        linkable=linkable,
        key=key,
        caller=principal.caller,
        alias=router.db_for_read(linkable.model),
        content_type_id=content_type_for(linkable).pk if with_document else None,
    )
    # No row: the caller is gone (or a client no longer acts); no object: NULLs.
    principal.prime(Flags(row.is_active, row.can_mutate_any, row.can_view_any) if row else INACTIVE)
    if row is None or row.pk is None:
        return None
    target = Target(
        linkable=linkable,
        pk=row.pk,
        identifier=str(row.pk) if linkable.identifier_field == "pk" else str(key),
        entity_id=row.entity_id,
        reachable=row.reachable,
    )
    return target, row.document or {}


def find_target(*, linkable: Linkable, identifier: str, principal: Principal) -> Target | None:
    """The object an identifier names, or None when it is malformed or names nothing."""
    found = _resolve(linkable, identifier, principal, with_document=False)
    return found[0] if found else None


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
    """`open_target` for reading and `get_document`, in one statement: what a GET costs.

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


def get_document(*, target: Target, using: str | None = None) -> Document:
    """The whole document, keys in order (`metadata.sql.writes.DOCUMENT`)."""
    return writes.document(
        content_type_id=content_type_for(target.linkable).pk,
        object_id=target.object_id,
        alias=using or router.db_for_read(Metadata),
    )


def get_value(*, target: Target, key: str) -> Any:
    """One key's value; `KeyNotFound` when the object has no such key."""
    values = list(rows_of(target).filter(key=key).values_list("value", flat=True)[:1])
    if not values:
        raise KeyNotFound(f"The object has no metadata under the key {key!r}.")
    return values[0]
