"""The batch statement: the documents of many objects at once (contract section 12).

See `metadata.sql` for why this is literal SQL. A batch of 100 objects reads about a thousand
rows under its locks; through the ORM, turning those rows into values cost more than the
statement itself (`docs/benchmark.md`, bulk rows).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connections

# The objects travel as one JSON parameter, `[[content type id, object id], ...]`, so the
# statement's text and plan are the same whatever the number of objects. Each object's rows
# come from a subquery of their own, as `reads.DOCUMENT_OF` does for one object: one probe of
# the `(content type, object id, key)` unique index each (a join would let the planner hash a
# scan of the table, which it prefers while the table is small). Everything comes back as one
# JSON text, `[[content type id, object id, [[key, value], ...] or null], ...]`, decoded in
# one call (a call per value cost more than the statement).
DOCUMENTS = {
    "postgresql": """
SELECT CAST(json_agg(json_build_array(o.e -> 0, o.e -> 1, (
    SELECT json_agg(json_build_array(m.key, m.value)) FROM metadata_metadata m
    WHERE m.content_type_id = CAST(o.e ->> 0 AS integer) AND m.object_id = o.e ->> 1
))) AS text)
FROM jsonb_array_elements(CAST(%(objects)s AS jsonb)) AS o(e)""",
    "sqlite": """
SELECT json_group_array(json_array(json_extract(o.value, '$[0]'), json_extract(o.value, '$[1]'),
    json((SELECT json_group_array(json_array(m.key, json(m.value))) FROM metadata_metadata m
          WHERE m.content_type_id = json_extract(o.value, '$[0]')
            AND m.object_id = json_extract(o.value, '$[1]')))))
FROM json_each(%(objects)s) AS o""",
}


def documents(
    *, objects: Sequence[tuple[int, str]], alias: str
) -> dict[tuple[int, str], dict[str, Any]]:
    """Run `DOCUMENTS` for (content type id, object id) pairs: each object's document, keys
    in order (objects without rows are absent). No objects, no statement."""
    if not objects:
        return {}
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(DOCUMENTS[connection.vendor], {"objects": json.dumps(list(objects))})
        (text,) = cursor.fetchone()
    return {
        (content_type_id, object_id): dict(sorted(pairs))
        for content_type_id, object_id, pairs in json.loads(text or "[]")
        if pairs
    }
