"""The benchmark's floor: the least any door could do to answer a GET of one document.

A bare Django view (no DRF, no graphene) behind the same middleware as the doors: it
verifies the same JWT (`metadata.tokens.principal_from_header`) and reads the document with
one indexed query (the `Metadata` rows of one content type and object id, on the unique
index), as fixed SQL: no queryset is built per request. It skips what the doors must do on
top (resolving the object, the permission, ETags, the doors' machinery), so the doors'
throughput is reported as a fraction of this one's.

Routed under /bench/ only when BENCHMARK_FLOOR=1 (`metadata_gateway.urls`); never in
production.
"""

from __future__ import annotations

import json

from django.contrib.contenttypes.models import ContentType
from django.db import connections, router
from django.http import HttpRequest, HttpResponse

from metadata.errors import NotAuthenticated
from metadata.linkables import by_collection
from metadata.models import Metadata
from metadata.tokens import principal_from_header

_TABLE = Metadata._meta.db_table
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


def floor_view(request: HttpRequest, collection: str, identifier: str) -> HttpResponse:
    try:
        principal_from_header(request.headers.get("Authorization"))
    except NotAuthenticated as error:
        return _json({"error": {"type": error.code, "message": error.message}}, status=401)
    try:
        linkable = by_collection(collection)
    except KeyError:
        return _json({"error": {"type": "not_found", "message": "No such collection."}}, 404)
    content_type = ContentType.objects.get_for_model(linkable.model, for_concrete_model=True)
    value_field = Metadata._meta.get_field("value")
    connection = connections[router.db_for_read(Metadata)]
    with connection.cursor() as cursor:
        cursor.execute(DOCUMENT_SQL, [content_type.pk, identifier])
        rows = cursor.fetchall()
    # Values decoded as the ORM decodes them (JSONField.from_db_value), then encoded again.
    document = {key: value_field.from_db_value(value, None, connection) for key, value in rows}
    return _json({"metadata": document})
