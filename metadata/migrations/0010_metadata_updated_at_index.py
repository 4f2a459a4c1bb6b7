"""The index behind the admin's one sortable column, "updated at" (issue 22).

A btree on `updated_at`: the metadata list sorted by it, newest or oldest first, whole or
filtered by linked type or narrowed by a key search, reads one page of rows down the index
(PostgreSQL sorts rows of equal time by the rest of the list's ordering as they come, an
incremental sort) instead of sorting the whole table.

It is the only index added for sorting, because every index costs every write to this
table, and `updated_at` changes on each write. The other columns are not offered for
sorting (`MetadataAdmin.sortable_by`) rather than indexed: identifier, key and "updated by"
would each need an index of their own, and "linked type" is served by the unique
(content type, object id, key) index in one direction only. Not served either: a type
filter sorted by time when that type's rows are all older than most others (the walk down
the index passes the others first); an index on (content type, updated_at) would serve it,
at the cost of a second index on every write, which no measured page needed.

PostgreSQL builds it with CREATE INDEX CONCURRENTLY (hence `atomic = False`), so a table of
millions of rows keeps taking writes meanwhile; other databases (SQLite) build it plainly. It
is part of the model state (`Metadata.Meta.indexes`): a btree, unlike 0009's GIN indexes,
exists on every database.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgreSQL(AddIndexConcurrently):
    """`AddIndexConcurrently` on PostgreSQL, a plain `AddIndex` on other databases."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(
                self, app_label, schema_editor, from_state, to_state
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(
                self, app_label, schema_editor, from_state, to_state
            )

    def describe(self):
        return f"Create index {self.index.name} (concurrently on PostgreSQL)"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("metadata", "0008_support_groups")]

    # bench.admin at 10^6 rows (docs/benchmark.md): the list sorted by "updated at" took
    # 520 to 970 ms without this index (a scan and sort of the table), whole, filtered by
    # type or searched by key; with it, the page is the 100 rows' rendering.
    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="metadata",
            index=models.Index(fields=["updated_at"], name="metadata_updated_at_idx"),
        ),
    ]
