"""The registry of linkable types (contract section 2).

This is the only module that names the domain classes. The GraphQL enum, the REST routes,
the webhook object types and the access-matrix tests are all generated from `REGISTRY`;
adding a linkable type is one entry here plus a migration for its model. A system check
(`metadata.checks`) verifies the entries when Django starts.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from django.core.validators import validate_email
from django.db import models

from metadata.models import Account, Counterpart, Entity, Payable, Property, User

MAX_IDENTIFIER_LENGTH = 254
_MAX_BIGINT = 2**63 - 1


def parse_text(identifier: str) -> str:
    if not identifier or len(identifier) > MAX_IDENTIFIER_LENGTH or "\x00" in identifier:
        raise ValueError("not an identifier")
    return identifier


def parse_positive_int(identifier: str) -> int:
    if not identifier.isascii() or not identifier.isdigit() or len(identifier) > 19:
        raise ValueError("not a positive integer")
    number = int(identifier)
    if not 0 < number <= _MAX_BIGINT:
        raise ValueError("out of range")
    return number


def parse_uuid(identifier: str) -> uuid.UUID:
    if len(identifier) != 36:
        raise ValueError("not a UUID in its canonical form")
    return uuid.UUID(identifier)


@dataclass(frozen=True)
class Attribute:
    """A value a provisioning line carries for the object: `key` on the line, `field` on the
    model, of JSON type `kind` (str or bool); a new object needs it when `required`."""

    key: str
    field: str
    kind: type
    required: bool = True


@dataclass(frozen=True)
class Parent:
    """The object a provisioning line names by `key` (its identifier) to hang this one on:
    the `field` foreign key, to an object of the `linkable` type of that name."""

    key: str
    field: str
    linkable: str


@dataclass(frozen=True)
class Provisioning:
    """What the importer (`metadata.provisioning`) needs to make the objects of one type
    from the platform's system of record (contract section 13).

    `members` is the many-to-many field to users that a line's `users` list (emails)
    replaces. `new` prepares an object about to be created (a user gets no usable password);
    `refuse` says why an existing object is not the importer's to change or retire (people
    an operator manages), or None. `save_each` saves changes one object at a time, so the
    model's signals run (a user's deactivation), where other types are updated in bulk.
    """

    attributes: tuple[Attribute, ...] = ()
    parent: Parent | None = None
    members: str | None = None
    identifier_check: Callable[[str], None] | None = None
    new: Callable[[Any], None] | None = None
    refuse: Callable[[Any], str | None] | None = None
    save_each: bool = False


def _check_email(identifier: str) -> None:
    validate_email(identifier)


def _no_password(user: Any) -> None:
    user.set_unusable_password()


def _operator_managed(user: Any) -> str | None:
    if user.is_staff or user.is_superuser or user.partner_clients.exists():
        return (
            f"{user.email} is staff, a superuser or a client's user: an operator manages "
            "them, not provisioning"
        )
    return None


@dataclass(frozen=True)
class Linkable:
    """One type of object that metadata can be linked to.

    `reach` is the ORM path from the object to the users with account-user level access to
    it (contract section 3); `entity_field` the path to the entity that owns it, for
    `X-Monite-Entity-Id` scoping, or None for types that belong to no entity.
    """

    name: str
    collection: str
    model: type[models.Model]
    identifier_field: str
    parse_identifier: Callable[[str], Any]
    reach: str
    entity_field: str | None
    webhook_object_type: str
    description: str
    identifier_pattern: str | None = None
    provisioning: Provisioning = Provisioning()

    def identifier_of(self, obj: models.Model) -> str:
        return str(getattr(obj, self.identifier_field))

    def looks_like_identifier(self, text: str) -> bool:
        """Whether `text` has the form of this type's identifier.

        The admin's search routes a typed term by it: an identifier is looked up exactly, by
        index, instead of searched for everywhere. A text identifier has its form in
        `identifier_pattern` (required of text identifiers by `metadata.checks`); a UUID or an
        integer is whatever `parse_identifier` accepts.
        """
        try:
            self.parse_identifier(text)
        except ValueError:
            return False
        pattern = self.identifier_pattern
        return pattern is None or re.fullmatch(pattern, text) is not None

    @property
    def identifier_kind(self) -> str:
        """The identifier's form, for documentation: `uuid`, `integer` or `string`."""
        if self.parse_identifier is parse_uuid:
            return "uuid"
        if self.parse_identifier is parse_positive_int:
            return "integer"
        return "string"


@dataclass(frozen=True)
class Target:
    """A linkable object resolved from an identifier, as the permission sees it.

    `reachable` says whether the principal it was resolved for has account-user level access.
    """

    linkable: Linkable
    pk: Any
    identifier: str
    entity_id: uuid.UUID | None
    reachable: bool

    @property
    def object_id(self) -> str:
        """The linked object's key as stored in `Metadata.object_id`."""
        return str(self.pk)


_ENTRIES = (
    Linkable(
        name="ACCOUNT",
        collection="accounts",
        model=Account,
        identifier_field="number",
        parse_identifier=parse_text,
        reach="users",
        entity_field=None,
        webhook_object_type="account_metadata",
        description="An account, by its number (for example A-154321).",
        identifier_pattern=r"[A-Z]-[0-9]+",
        provisioning=Provisioning(members="users"),
    ),
    Linkable(
        name="ACCOUNT_USER",
        collection="account_users",
        model=User,
        identifier_field="email",
        parse_identifier=parse_text,
        reach="pk",
        entity_field=None,
        webhook_object_type="account_user_metadata",
        description="A user, by email address; every user reaches themself.",
        identifier_pattern=r"[^@\s]+@[^@\s]+",
        provisioning=Provisioning(
            attributes=(Attribute("is_active", "is_active", bool, required=False),),
            identifier_check=_check_email,
            new=_no_password,
            refuse=_operator_managed,
            save_each=True,
        ),
    ),
    Linkable(
        name="PROPERTY",
        collection="properties",
        model=Property,
        identifier_field="pk",
        parse_identifier=parse_positive_int,
        reach="account__users",
        entity_field=None,
        webhook_object_type="property_metadata",
        description="A supply address of an account, by its integer id.",
        provisioning=Provisioning(
            attributes=(Attribute("address", "address", str),),
            parent=Parent("account", "account", "ACCOUNT"),
        ),
    ),
    Linkable(
        name="ENTITY",
        collection="entities",
        model=Entity,
        identifier_field="pk",
        parse_identifier=parse_uuid,
        reach="users",
        entity_field="pk",
        webhook_object_type="entity_partner_metadata",
        description="An entity, by its UUID.",
        provisioning=Provisioning(attributes=(Attribute("name", "name", str),), members="users"),
    ),
    Linkable(
        name="COUNTERPART",
        collection="counterparts",
        model=Counterpart,
        identifier_field="pk",
        parse_identifier=parse_uuid,
        reach="entity__users",
        entity_field="entity_id",
        webhook_object_type="counterpart_partner_metadata",
        description="A counterpart of an entity, by its UUID.",
        provisioning=Provisioning(
            attributes=(Attribute("name", "name", str),),
            parent=Parent("entity", "entity", "ENTITY"),
        ),
    ),
    Linkable(
        name="PAYABLE",
        collection="payables",
        model=Payable,
        identifier_field="pk",
        parse_identifier=parse_uuid,
        reach="entity__users",
        entity_field="entity_id",
        webhook_object_type="payable_partner_metadata",
        description="A payable of an entity, by its UUID.",
        provisioning=Provisioning(
            attributes=(Attribute("name", "document_id", str),),
            parent=Parent("entity", "entity", "ENTITY"),
        ),
    ),
)

REGISTRY: MappingProxyType[str, Linkable] = MappingProxyType({lk.name: lk for lk in _ENTRIES})
_BY_COLLECTION = MappingProxyType({lk.collection: lk for lk in _ENTRIES})
_BY_MODEL = MappingProxyType({lk.model: lk for lk in _ENTRIES})


def all_linkables() -> Iterator[Linkable]:
    return iter(REGISTRY.values())


def by_name(name: str) -> Linkable:
    return REGISTRY[name]


def by_collection(collection: str) -> Linkable:
    return _BY_COLLECTION[collection]


def for_model(model: type[models.Model]) -> Linkable | None:
    return _BY_MODEL.get(model)
