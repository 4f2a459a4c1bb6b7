"""The object, input and enum types of the GraphQL door (contract section 6).

`LinkedObjectType` is generated from the linkable registry, so a new linkable type appears
here without touching this module. Output types resolve from core values (`services.Entry`,
`linkables.Target`, `tokens.IssuedTokens`): the door adds no model of its own.
"""

from __future__ import annotations

import enum
from typing import Any

import graphene

from metadata import rules, selectors
from metadata.graphql.scalars import JSONString, StoredValue
from metadata.linkables import Linkable, Target, all_linkables, by_name
from metadata.services import Entry

LINKED_OBJECT_TYPE_DESCRIPTION = "The kind of object metadata is linked to."


def _linked_object_enum() -> type[graphene.Enum]:
    """One enum value per registry entry, described by the entry itself."""
    registry = {linkable.name: linkable for linkable in all_linkables()}
    members = enum.Enum("LinkedObjectType", [(name, name) for name in registry])

    def describe(member: enum.Enum | None) -> str:
        if member is None:
            return LINKED_OBJECT_TYPE_DESCRIPTION
        return registry[member.name].description

    return graphene.Enum.from_enum(members, description=describe)


LinkedObjectType = _linked_object_enum()


def linkable_of(member: Any) -> Linkable:
    """The registry entry for an enum argument (graphene hands resolvers the enum member)."""
    return by_name(getattr(member, "name", member))


def entries_of(document: dict[str, Any]) -> list[Entry]:
    """A document as `Metadata` objects, in the document's (key) order."""
    return [Entry(key=key, value=value) for key, value in document.items()]


def linked_object_type_argument() -> graphene.Argument:
    return graphene.Argument(
        LinkedObjectType, required=True, description="The kind of object the metadata is on."
    )


def identifier_argument() -> graphene.Argument:
    return graphene.Argument(
        graphene.String,
        required=True,
        description="The object's identifier: an account number, an email address, an "
        "integer id or a UUID, depending on linkedObjectType.",
    )


class Metadata(graphene.ObjectType):
    """One key of an object's metadata document and its value."""

    key = graphene.String(required=True, description="The key, 1 to 100 characters.")
    value = graphene.Field(
        JSONString,
        description='The value as JSON text; a stored null is the text "null".',
    )
    digest = graphene.String(
        description="A digest of the value; pass it back as compareDigest to change the key "
        "only if nobody changed it since you read it.",
    )

    @staticmethod
    def resolve_value(entry: Entry, info: graphene.ResolveInfo) -> StoredValue:
        return StoredValue(entry.value)

    @staticmethod
    def resolve_digest(entry: Entry, info: graphene.ResolveInfo) -> str:
        return rules.value_digest(entry.value)


class MetadataDocument(graphene.ObjectType):
    """One object's identifier and its whole metadata document (`metadataBatch`)."""

    identifier = graphene.String(required=True, description="The object's identifier.")
    metadata = graphene.List(
        graphene.NonNull(Metadata), required=True, description="Its metadata, ordered by key."
    )

    @staticmethod
    def resolve_identifier(found: tuple[str, dict[str, Any]], info: graphene.ResolveInfo) -> str:
        return found[0]

    @staticmethod
    def resolve_metadata(
        found: tuple[str, dict[str, Any]], info: graphene.ResolveInfo
    ) -> list[Entry]:
        return entries_of(found[1])


class Account(graphene.ObjectType):
    """A Kraken account, with its metadata."""

    number = graphene.String(required=True, description="The account number, e.g. A-154321.")
    metadata = graphene.List(Metadata, description="The account's metadata, ordered by key.")

    @staticmethod
    def resolve_number(target: Target, info: graphene.ResolveInfo) -> str:
        return target.identifier

    @staticmethod
    def resolve_metadata(target: Target, info: graphene.ResolveInfo) -> list[Entry]:
        # The target was opened for reading by the `account` query that returned it.
        return entries_of(selectors.get_document(target=target))


class MetadataInput(graphene.InputObjectType):
    """One key to create or update on one object."""

    linked_object_type = graphene.InputField(
        LinkedObjectType, required=True, description="The kind of object the metadata is on."
    )
    identifier = graphene.InputField(
        graphene.String, required=True, description="The object's identifier."
    )
    key = graphene.InputField(
        graphene.String,
        required=True,
        description="The key: 1 to 100 characters, no control characters, not only spaces.",
    )
    value = graphene.InputField(
        JSONString,
        required=True,
        description="The value as a string of JSON text (no NaN or Infinity). The whole "
        "document, with this value, must stay within 2000 bytes.",
    )
    compare_digest = graphene.InputField(
        graphene.String,
        description="The key's digest as you last read it; the write is refused "
        "(KT-CT-8412) if the stored value has changed since. Omit it to write "
        "unconditionally.",
    )


class DeleteMetadataInput(graphene.InputObjectType):
    """One key to remove from one object."""

    linked_object_type = graphene.InputField(
        LinkedObjectType, required=True, description="The kind of object the metadata is on."
    )
    identifier = graphene.InputField(
        graphene.String, required=True, description="The object's identifier."
    )
    key = graphene.InputField(graphene.String, required=True, description="The key to remove.")


class ObtainJSONWebTokenInput(graphene.InputObjectType):
    """An email address and password, a refresh token, or a partner client's API key."""

    email = graphene.InputField(graphene.String, description="The user's email address.")
    password = graphene.InputField(graphene.String, description="The user's password.")
    refresh_token = graphene.InputField(
        graphene.String, description="A refresh token from an earlier obtainKrakenToken."
    )
    api_key = graphene.InputField(
        graphene.String,
        name="APIKey",
        description="A partner client's API key: the token has the client's reach "
        "(the entities it serves), and no refresh token is issued.",
    )


__all__ = [
    "Account",
    "DeleteMetadataInput",
    "LinkedObjectType",
    "Metadata",
    "MetadataDocument",
    "MetadataInput",
    "ObtainJSONWebTokenInput",
    "entries_of",
    "identifier_argument",
    "linkable_of",
    "linked_object_type_argument",
]
