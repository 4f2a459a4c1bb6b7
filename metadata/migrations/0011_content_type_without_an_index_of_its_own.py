"""Drop the indexes that another index of the same table already serves.

- The index Django gave each table's `content_type` foreign key on its own: every other index
  of `metadata_metadata` and `metadata_metadatachange` begins with the content type (the
  unique (content type, object id, key) index, the audit trail's (content type, object id,
  created at)).
- `metadata_type_key_idx`, (content type, key): `metadata_lookup_idx` of 0002 begins with the
  same two columns, on PostgreSQL and on SQLite.

Each served nothing the longer one does not and cost every write one more index entry
(`docs/benchmark.md`, bulk rows; `tests/core/test_indexes.py` keeps it so).

Only the index goes: Django's own `AlterField` would also drop and re-add the foreign key
constraint, and re-adding it checks every row under a lock. On PostgreSQL the index is
dropped CONCURRENTLY (hence `atomic = False`), so writes go on meanwhile.
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# Name: (table, columns). The foreign keys' names are the ones Django gave them (the same on
# every database).
INDEXES = {
    "metadata_metadata_content_type_id_169f7979": ("metadata_metadata", ("content_type_id",)),
    "metadata_metadatachange_content_type_id_27cf8d6d": (
        "metadata_metadatachange",
        ("content_type_id",),
    ),
    "metadata_type_key_idx": ("metadata_metadata", ("content_type_id", "key")),
}


def _concurrently(schema_editor: BaseDatabaseSchemaEditor) -> str:
    return "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for name in INDEXES:
        schema_editor.execute(
            f"DROP INDEX {_concurrently(schema_editor)}IF EXISTS {schema_editor.quote_name(name)}"
        )


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for name, (table, columns) in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX {_concurrently(schema_editor)}IF NOT EXISTS "
            f"{schema_editor.quote_name(name)} ON {schema_editor.quote_name(table)} "
            f"({', '.join(map(schema_editor.quote_name, columns))})"
        )


def _content_type(db_index: bool) -> models.ForeignKey:
    return models.ForeignKey(
        db_index=db_index,
        on_delete=models.deletion.CASCADE,
        related_name="+",
        to="contenttypes.contenttype",
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("metadata", "0010_metadata_updated_at_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField("metadata", "content_type", _content_type(False)),
                migrations.AlterField("metadatachange", "content_type", _content_type(False)),
                migrations.RemoveIndex("metadata", "metadata_type_key_idx"),
            ],
            database_operations=[migrations.RunPython(drop, create)],
        )
    ]
