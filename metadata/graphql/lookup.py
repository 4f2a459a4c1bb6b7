"""`metadataLookup` (contract section 9): objects found by a key, and optionally its values.

A Relay-style connection over `metadata.lookups.lookup`, which returns only objects the
caller may read and pages them in identifier order; an edge's cursor is the core's cursor
for that object, so `after: endCursor` continues where a page ended.
"""

from __future__ import annotations

from typing import Any

import graphene
from graphene import relay

from metadata import lookups
from metadata.errors import NotJSON, RuleViolation, Violation
from metadata.graphql.context import parse_value, principal_of
from metadata.graphql.scalars import JSONString, JSONText
from metadata.graphql.types import Metadata, entries_of, linkable_of, linked_object_type_argument
from metadata.rules import Document
from metadata.services import Entry

Found = tuple[str, Document]


class LinkedObjectMetadata(graphene.ObjectType):
    """An object a lookup found, with its whole metadata document."""

    identifier = graphene.String(required=True, description="The object's identifier.")
    metadata = graphene.List(Metadata, description="The object's metadata, ordered by key.")

    @staticmethod
    def resolve_identifier(found: Found, info: graphene.ResolveInfo) -> str:
        return found[0]

    @staticmethod
    def resolve_metadata(found: Found, info: graphene.ResolveInfo) -> list[Entry]:
        return entries_of(found[1])


class MetadataLookupEdge(graphene.ObjectType):
    """One object of a lookup page."""

    cursor = graphene.String(required=True, description="Pass as `after` to continue after it.")
    node = graphene.Field(LinkedObjectMetadata, description="The object and its metadata.")

    @staticmethod
    def resolve_cursor(found: Found, info: graphene.ResolveInfo) -> str:
        return lookups.encode_cursor(found[0])

    @staticmethod
    def resolve_node(found: Found, info: graphene.ResolveInfo) -> Found:
        return found


class MetadataLookupConnection(graphene.ObjectType):
    """A page of objects found by a lookup, in identifier order."""

    edges = graphene.List(MetadataLookupEdge, description="The objects of this page.")
    page_info = graphene.Field(relay.PageInfo, required=True, description="Where the page ends.")

    @staticmethod
    def resolve_edges(page: lookups.LookupPage, info: graphene.ResolveInfo) -> list[Found]:
        return page.items

    @staticmethod
    def resolve_page_info(page: lookups.LookupPage, info: graphene.ResolveInfo) -> relay.PageInfo:
        cursors = [lookups.encode_cursor(identifier) for identifier, _ in page.items]
        return relay.PageInfo(
            has_next_page=page.next_cursor is not None,
            has_previous_page=False,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )


def lookup_field() -> graphene.Field:
    return graphene.Field(
        MetadataLookupConnection,
        linked_object_type=linked_object_type_argument(),
        key=graphene.Argument(
            graphene.String, required=True, description="Objects that have this key."
        ),
        values=graphene.Argument(
            graphene.List(graphene.NonNull(JSONString)),
            description="Only objects whose value under the key is one of these, each as JSON "
            'text ("\\"id_6c8f1262fdbc\\"", "42"). Omit it to find every object with the key.',
        ),
        first=graphene.Argument(
            graphene.Int,
            description=f"Page size, 1 to {lookups.LOOKUP_MAX_LIMIT} (the default); "
            "KT-CT-8413 outside that range.",
        ),
        after=graphene.Argument(
            graphene.String,
            description="The endCursor of the previous page; KT-CT-8413 if it is not one.",
        ),
        description="Objects of one type that have a key (with one of some values), among those "
        "you may read; ordered by identifier, paged Relay-style.",
        resolver=resolve_metadata_lookup,
    )


def resolve_metadata_lookup(
    root: Any,
    info: graphene.ResolveInfo,
    linked_object_type: Any,
    key: str,
    values: list[JSONText] | None = None,
    first: int | None = None,
    after: str | None = None,
) -> lookups.LookupPage:
    principal = principal_of(info)
    return lookups.lookup(
        principal=principal,
        linkable=linkable_of(linked_object_type),
        key=key,
        values=_parse_values(values),
        limit=lookups.LOOKUP_MAX_LIMIT if first is None else first,
        cursor=after,
    )


def _parse_values(values: list[JSONText] | None) -> list[Any] | None:
    """Each value's JSON text; a bad one is located at its index, as the core locates rules."""
    if values is None:
        return None
    parsed = []
    for index, value in enumerate(values):
        try:
            parsed.append(parse_value(value))
        except NotJSON as error:
            violation = Violation(("value", index), error.message, "value_error.json")
            raise RuleViolation([violation]) from error
    return parsed
