"""Read fields: `metadata`, `metadataBatch`, `metadataForKey`, `account` and
`metadataLookup` (`lookup`).

Each opens its object for reading through the core (which answers a missing and an
unreadable object alike, KT-CT-4123) and reads through `metadata.selectors`.
"""

from __future__ import annotations

from typing import Any

import graphene

from metadata import batches, selectors
from metadata.graphql.context import charge, open_target, principal_of, read_document
from metadata.graphql.lookup import lookup_field
from metadata.graphql.types import (
    Account,
    Metadata,
    MetadataDocument,
    entries_of,
    identifier_argument,
    linkable_of,
    linked_object_type_argument,
)
from metadata.linkables import Target
from metadata.permissions import Action
from metadata.rules import Document
from metadata.services import Entry


class Query(graphene.ObjectType):
    """Reads of metadata. Every field needs a token (Authorization: JWT <token>)."""

    metadata = graphene.List(
        Metadata,
        linked_object_type=linked_object_type_argument(),
        identifier=identifier_argument(),
        description="The whole metadata document of one object, ordered by key; an empty "
        "list when it has none.",
    )
    metadata_batch = graphene.List(
        graphene.NonNull(MetadataDocument),
        required=True,
        linked_object_type=linked_object_type_argument(),
        identifiers=graphene.Argument(
            graphene.List(graphene.NonNull(graphene.String)),
            required=True,
            description="1 to 100 identifiers of objects of that type.",
        ),
        description="The documents of the readable objects among identifiers, in their order; "
        "the others (missing or not readable alike) are omitted. N identifiers count N "
        "against the caller's rate limit.",
    )
    metadata_for_key = graphene.Field(
        Metadata,
        linked_object_type=linked_object_type_argument(),
        identifier=identifier_argument(),
        key=graphene.Argument(graphene.String, required=True, description="The key to read."),
        description="One key of one object's metadata; KT-CT-8416 when the object has no such key.",
    )
    account = graphene.Field(
        Account,
        account_number=graphene.Argument(
            graphene.String, required=True, description="The account number, e.g. A-154321."
        ),
        description="An account you have access to, with its metadata.",
    )
    metadata_lookup = lookup_field()

    @staticmethod
    def resolve_metadata(
        root: Any, info: graphene.ResolveInfo, linked_object_type: Any, identifier: str
    ) -> list[Entry]:
        return entries_of(read_document(info, linked_object_type, identifier))

    @staticmethod
    def resolve_metadata_batch(
        root: Any, info: graphene.ResolveInfo, linked_object_type: Any, identifiers: list[str]
    ) -> list[tuple[str, Document]]:
        principal = principal_of(info)
        charge(info, len(identifiers) - 1)
        return batches.read_documents(
            principal=principal, linkable=linkable_of(linked_object_type), identifiers=identifiers
        )

    @staticmethod
    def resolve_metadata_for_key(
        root: Any, info: graphene.ResolveInfo, linked_object_type: Any, identifier: str, key: str
    ) -> Entry:
        target = open_target(info, linked_object_type, identifier, Action.READ)
        return Entry(key=key, value=selectors.get_value(target=target, key=key))

    @staticmethod
    def resolve_account(root: Any, info: graphene.ResolveInfo, account_number: str) -> Target:
        return open_target(info, "ACCOUNT", account_number, Action.READ)
