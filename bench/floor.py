"""The benchmark's floors: the least any door could do to read, and to write, a document.

A bare Django view (no DRF, no graphene) behind the same middleware as the doors: it
verifies the same JWT (`metadata.tokens.principal_from_header`) and reads the document with
one indexed query (the `Metadata` rows of one content type and object id, on the unique
index), as fixed SQL: no queryset is built per request. It skips what the doors must do on
top (resolving the object, the permission, ETags, the doors' machinery), so the doors'
throughput is reported as a fraction of this one's.

The write floor (`floor_write_view`) is what any correct PATCH must do at least, in fixed
SQL: in one transaction, lock the object's row, read the document (the size rule is checked
on the document as it will be), upsert the keys sent and write an audit row per key. It
skips the permission, the rules beyond the size, the change event and the doors. A read
costs one statement, a write five (BEGIN, lock, read, upsert and audit, COMMIT), so the
write floor tells what a write costs against a read before any door adds to it.

Routed under /bench/ only by the benchmark's URLconf (`bench.urls`, set by `bench.settings`);
never by the application's.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connections, router, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from metadata.errors import NotAuthenticated
from metadata.linkables import Linkable, by_collection
from metadata.models import Metadata, MetadataChange
from metadata.rules import Document
from metadata.tokens import principal_from_header

_TABLE = Metadata._meta.db_table
_AUDIT_TABLE = MetadataChange._meta.db_table
DOCUMENT_SQL = (
    f'SELECT "key", "value" FROM "{_TABLE}" '
    'WHERE "content_type_id" = %s AND "object_id" = %s ORDER BY "key"'
)


def _json(body: object, status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        status=status,
        content_type="application/json",
    )


def _open(request: HttpRequest, collection: str) -> Linkable | HttpResponse:
    """The JWT verified and the collection found, as the doors do; else the error's answer."""
    try:
        principal_from_header(request.headers.get("Authorization"))
    except NotAuthenticated as error:
        return _json({"error": {"type": error.code, "message": error.message}}, status=401)
    try:
        return by_collection(collection)
    except KeyError:
        return _json({"error": {"type": "not_found", "message": "No such collection."}}, 404)


def _document(cursor: Any, connection: Any, content_type_id: int, identifier: str) -> Document:
    """The document by one indexed query, its values decoded as the ORM decodes them
    (JSONField.from_db_value)."""
    cursor.execute(DOCUMENT_SQL, [content_type_id, identifier])
    value_field = Metadata._meta.get_field("value")
    return {
        key: value_field.from_db_value(value, None, connection) for key, value in cursor.fetchall()
    }


def floor_view(request: HttpRequest, collection: str, identifier: str) -> HttpResponse:
    linkable = _open(request, collection)
    if isinstance(linkable, HttpResponse):
        return linkable
    content_type = ContentType.objects.get_for_model(linkable.model, for_concrete_model=True)
    connection = connections[router.db_for_read(Metadata)]
    with connection.cursor() as cursor:
        document = _document(cursor, connection, content_type.pk, identifier)
    return _json({"metadata": document})


LIMIT_BYTES = 2000
MSG_BAD_WRITE = 'Send {"metadata": {...}} as JSON, to an identifier of the collection.'
LOCK_SQL = 'SELECT 1 FROM "{table}" WHERE "{pk}" = %s FOR NO KEY UPDATE'
WRITE_SQL = f"""
WITH written AS (
    INSERT INTO "{_TABLE}" (content_type_id, object_id, key, value, created_at, updated_at)
    SELECT %(type)s, %(object)s, w.key, w.value, now(), now()
    FROM jsonb_each(%(written)s::jsonb) AS w(key, value)
    ON CONFLICT (content_type_id, object_id, key) DO UPDATE
    SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
)
INSERT INTO "{_AUDIT_TABLE}" (content_type_id, object_id, key, existed_before, old_value,
                              exists_after, new_value, door, request_id, created_at)
SELECT %(type)s, %(object)s, w.key, %(before)s::jsonb ? w.key, %(before)s::jsonb -> w.key,
       true, w.value, 'rest', '', now()
FROM jsonb_each(%(written)s::jsonb) AS w(key, value)
"""


@csrf_exempt
def floor_write_view(request: HttpRequest, collection: str, identifier: str) -> HttpResponse:
    """PATCH: the write floor (see the module docstring)."""
    linkable = _open(request, collection)
    if isinstance(linkable, HttpResponse):
        return linkable
    try:
        patch = json.loads(request.body)["metadata"]
        linkable.parse_identifier(identifier)
    except (ValueError, TypeError, KeyError):  # the doors' checks, at their least
        return _json({"error": {"type": "bad_request", "message": MSG_BAD_WRITE}}, 400)
    if not isinstance(patch, dict):
        return _json({"error": {"type": "bad_request", "message": MSG_BAD_WRITE}}, 400)
    content_type = ContentType.objects.get_for_model(linkable.model, for_concrete_model=True)
    meta = linkable.model._meta
    alias = router.db_for_write(Metadata)
    connection = connections[alias]
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute(LOCK_SQL.format(table=meta.db_table, pk=meta.pk.column), [identifier])
        if not cursor.fetchall():
            return _json({"error": {"type": "not_found", "message": "No such object."}}, 404)
        before = _document(cursor, connection, content_type.pk, identifier)
        after = dict(sorted({**before, **patch}.items()))
        if len(json.dumps(after, separators=(",", ":"), ensure_ascii=False).encode()) > LIMIT_BYTES:
            return _json({"error": {"type": "invalid_metadata", "message": "Too large."}}, 422)
        cursor.execute(
            WRITE_SQL,
            {
                "type": content_type.pk,
                "object": identifier,
                "written": json.dumps(patch),
                "before": json.dumps(before),
            },
        )
    return _json({"metadata": after})
