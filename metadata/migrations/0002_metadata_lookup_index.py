"""The index behind lookup by metadata value (contract section 9).

PostgreSQL: (content type, key, md5 of the jsonb text): values can be up to 2000 bytes of
JSON, more than a btree entry may hold as jsonb, while a hash always fits. SQLite: a plain
composite index over the stored JSON text.
"""

from django.db import migrations

INDEX = "metadata_lookup_idx"
CREATE = {
    "postgresql": (
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON metadata_metadata "
        '(content_type_id, "key", md5(("value")::text))'
    ),
    "sqlite": (
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON metadata_metadata "
        '(content_type_id, "key", "value")'
    ),
}


def create_index(apps, schema_editor):
    sql = CREATE.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor in CREATE:
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("metadata", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
