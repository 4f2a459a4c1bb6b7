"""Trigram indexes behind the admin's search (issue 22), built without locking out writes.

PostgreSQL: `pg_trgm` GIN indexes on `UPPER(key)` and on `UPPER(value::text)`, the very
expressions Django writes for `istartswith`/`icontains`, so key prefixes and substrings of keys
and of values' JSON text are found by index. The table is analysed afterwards, which gives the
planner statistics on those expressions. They are built with CREATE INDEX CONCURRENTLY
(hence `atomic = False`): a table of millions of rows keeps taking writes while they build.

SQLite keeps plain scans: the operations do nothing there. The indexes are kept out of the
model state on purpose (like `metadata_lookup_idx` of 0002): in the state, SQLite would try to
create a GIN index each time it remakes the table for a later migration.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import AddIndexConcurrently, TrigramExtension
from django.db import migrations
from django.db.models import TextField
from django.db.models.functions import Cast, Upper

KEY_INDEX = "metadata_key_trgm_idx"
VALUE_INDEX = "metadata_value_trgm_idx"


class AddIndexConcurrentlyOnPostgreSQL(AddIndexConcurrently):
    """`AddIndexConcurrently` for PostgreSQL only, and outside the model state."""

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"Concurrently create index {self.index.name} (PostgreSQL only)"


def analyze(apps, schema_editor):
    """Statistics for the indexed expressions: without them the planner guesses how many rows
    a pattern matches, and a search that matches nothing may scan the table."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ANALYZE metadata_metadata")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("metadata", "0004_partner_client_tenancy")]

    operations = [
        TrigramExtension(),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="metadata",
            index=GinIndex(OpClass(Upper("key"), name="gin_trgm_ops"), name=KEY_INDEX),
        ),
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="metadata",
            index=GinIndex(
                OpClass(Upper(Cast("value", output_field=TextField())), name="gin_trgm_ops"),
                name=VALUE_INDEX,
            ),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop, elidable=True),
    ]
