"""Reads: resolving identifiers to objects and reading their metadata.

With `metadata.services` the only code that touches `Metadata` rows. A read costs two
queries: the object (with the caller's access and user state computed in the same query),
then its rows.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef

from metadata.errors import KeyNotFound
from metadata.linkables import Linkable, Target
from metadata.models import Metadata
from metadata.permissions import Action, metadata_permission
from metadata.principals import Principal, flag_annotations, flags_from_row, reach_condition
from metadata.rules import Document


def content_type_for(linkable: Linkable) -> ContentType:
    """Cached by Django after the first call; the registry's models are never proxies."""
    return ContentType.objects.get_for_model(linkable.model, for_concrete_model=True)


def find_target(*, linkable: Linkable, identifier: str, principal: Principal) -> Target | None:
    """The object an identifier names, or None when it is malformed or names nothing."""
    try:
        key = linkable.parse_identifier(identifier)
    except (TypeError, ValueError):
        return None
    model = linkable.model
    reach = model.objects.filter(pk=OuterRef("pk")).filter(
        reach_condition(linkable.reach, principal.user_id)
    )
    rows = model.objects.filter(**{linkable.identifier_field: key}).annotate(
        target_reachable=Exists(reach)
    )
    if not principal.flags_loaded:
        rows = rows.annotate(**flag_annotations(principal.user_id))
    row = rows.first()
    if row is None:
        return None
    if not principal.flags_loaded:
        principal.prime(flags_from_row(row))
    return Target(
        linkable=linkable,
        pk=row.pk,
        identifier=linkable.identifier_of(row),
        entity_id=getattr(row, linkable.entity_field) if linkable.entity_field else None,
        reachable=bool(row.target_reachable),
    )


def target_for_object(*, obj: Any, linkable: Linkable, principal: Principal) -> Target:
    """A target for an object already loaded (the admin has the instance in hand)."""
    reachable = (
        linkable.model.objects.filter(pk=obj.pk)
        .filter(reach_condition(linkable.reach, principal.user_id))
        .exists()
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


def rows_of(target: Target) -> Any:
    return Metadata.objects.filter(
        content_type=content_type_for(target.linkable), object_id=target.object_id
    )


def get_document(*, target: Target) -> Document:
    """The whole document, keys in order."""
    return dict(rows_of(target).order_by("key").values_list("key", "value"))


def get_value(*, target: Target, key: str) -> Any:
    """One key's value; `KeyNotFound` when the object has no such key."""
    values = list(rows_of(target).filter(key=key).values_list("value", flat=True)[:1])
    if not values:
        raise KeyNotFound(f"The object has no metadata under the key {key!r}.")
    return values[0]
