"""System checks run at start-up: the linkable registry must describe real, unique fields."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import FieldDoesNotExist


@checks.register()
def check_linkable_registry(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from metadata.linkables import REGISTRY
    from metadata.sql import reads

    errors: list[checks.CheckMessage] = []
    collections: set[str] = set()
    for name, linkable in REGISTRY.items():
        where = f"linkable {name}"
        if name != name.upper() or not name.replace("_", "").isalpha():
            errors.append(checks.Error(f"{where}: names are UPPER_CASE words.", id="metadata.E001"))
        if linkable.collection in collections:
            errors.append(
                checks.Error(
                    f"{where}: collection {linkable.collection} is taken.", id="metadata.E002"
                )
            )
        collections.add(linkable.collection)
        meta = linkable.model._meta
        field_name = (
            meta.pk.name if linkable.identifier_field == "pk" else linkable.identifier_field
        )
        try:
            field = meta.get_field(field_name)
        except FieldDoesNotExist:
            errors.append(checks.Error(f"{where}: no field {field_name}.", id="metadata.E003"))
        else:
            if not (field.primary_key or field.unique):
                errors.append(
                    checks.Error(
                        f"{where}: identifier {field_name} is not unique.", id="metadata.E004"
                    )
                )
        if linkable.identifier_kind == "string" and not linkable.identifier_pattern:
            errors.append(
                checks.Error(
                    f"{where}: a text identifier needs an identifier_pattern (the admin's "
                    "search recognises identifiers by it).",
                    id="metadata.E006",
                )
            )
        for path in filter(None, (linkable.reach, linkable.entity_field)):
            try:
                linkable.model.objects.filter(**{path: None})  # resolves the path or raises
            except Exception:  # any failure means the path is wrong
                errors.append(
                    checks.Error(f"{where}: path {path} does not resolve.", id="metadata.E005")
                )
        try:
            reads.reach_sql(linkable)
        except FieldDoesNotExist:
            pass  # E005 above
        except ValueError as error:
            errors.append(
                checks.Error(
                    f"{where}: reach {linkable.reach} is not one the read statement knows: "
                    f"{error}. Use pk, a many-to-many to users, or a foreign key then one.",
                    id="metadata.E010",
                )
            )
        errors += _provisioning_errors(where, linkable, REGISTRY)
    return errors


def _provisioning_errors(where: str, linkable: Any, registry: Any) -> list[checks.CheckMessage]:
    """What the importer (`metadata.provisioning`) reads from an entry must exist."""
    spec, meta = linkable.provisioning, linkable.model._meta
    errors: list[checks.CheckMessage] = []

    def field(name: str) -> Any:
        try:
            return meta.get_field(name)
        except FieldDoesNotExist:
            errors.append(
                checks.Error(f"{where}: provisioning names no field {name}.", id="metadata.E007")
            )
            return None

    for attribute in spec.attributes:
        field(attribute.field)
    if spec.parent is not None:
        parent = registry.get(spec.parent.linkable)
        foreign_key = field(spec.parent.field)
        if parent is None or (
            foreign_key is not None
            and (not foreign_key.many_to_one or foreign_key.related_model is not parent.model)
        ):
            errors.append(
                checks.Error(
                    f"{where}: provisioning parent {spec.parent.field} is not a foreign key to "
                    f"the model of {spec.parent.linkable}.",
                    id="metadata.E008",
                )
            )
    if spec.members is not None:
        members = field(spec.members)
        if members is not None and not members.many_to_many:
            errors.append(
                checks.Error(
                    f"{where}: provisioning members {spec.members} is not a many-to-many field.",
                    id="metadata.E009",
                )
            )
    return errors


@checks.register(checks.Tags.database)
def check_replica_pins(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A caller's reads follow their writes to the primary by a marker in the cache: with a
    process-local cache, a read served by another worker or host misses the marker."""
    from django.conf import settings

    from metadata.consistency import replica_configured

    if replica_configured() and not settings.REDIS_URL:
        return [
            checks.Warning(
                "DATABASE_REPLICA_URL is set without REDIS_URL: a caller may not see their own "
                "write when the next read is served by another process.",
                hint="Set REDIS_URL so every process shares the read-your-writes markers.",
                id="metadata.W001",
            )
        ]
    return []
