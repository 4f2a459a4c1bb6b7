"""The write-heavy tables carry no index another one already serves.

Every index costs every write a second entry (a change of a metadata row rewrites all of its
index entries), so an index whose columns begin another index of the same table is only
cost: the longer one finds the same rows.
"""

from __future__ import annotations

import pytest
from django.db import connection

from metadata.models import Metadata, MetadataChange, WebhookEvent

pytestmark = pytest.mark.django_db


def _plain_indexes(table: str) -> dict[str, tuple[str, ...]]:
    """Index name: its columns, for the indexes and unique constraints of plain columns (an
    index with an expression is left out: SQLite and PostgreSQL introspect it differently)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        name: tuple(info["columns"])
        for name, info in constraints.items()
        if (info["index"] or info["unique"])
        and not info["primary_key"]
        and info["columns"]
        and None not in info["columns"]
    }


@pytest.mark.parametrize("model", [Metadata, MetadataChange, WebhookEvent])
def test_no_index_begins_another(model: type) -> None:
    indexes = _plain_indexes(model._meta.db_table)
    redundant = [
        (name, other)
        for name, columns in indexes.items()
        for other, longer in indexes.items()
        if other != name and len(longer) > len(columns) and longer[: len(columns)] == columns
    ]
    assert redundant == []


def test_rows_are_still_found_by_content_type_alone() -> None:
    """What the dropped index was for (deleting a content type cascades to its rows): the
    unique (content type, object id, key) index begins with it."""
    indexes = _plain_indexes(Metadata._meta.db_table)
    assert ("content_type_id", "object_id", "key") in indexes.values()
