"""The benchmark's floor: the least any door could do to answer a GET of one document.

A bare Django view (no DRF, no graphene) behind the same middleware as the doors: it
verifies the same JWT (`metadata.tokens.principal_from_header`) and reads the document with
one indexed query (the `Metadata` rows of one content type and object id). It skips what the
doors must do on top (resolving the object, the permission, ETags, the doors' machinery), so
the doors' throughput is reported as a fraction of this one's.

Routed under /bench/ only when BENCHMARK_FLOOR=1 (`metadata_gateway.urls`); never in
production.
"""

from __future__ import annotations

import json

from django.contrib.contenttypes.models import ContentType
from django.http import HttpRequest, HttpResponse

from metadata.errors import NotAuthenticated
from metadata.linkables import by_collection
from metadata.models import Metadata
from metadata.tokens import principal_from_header


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
    rows = Metadata.objects.filter(content_type=content_type, object_id=identifier)
    return _json({"metadata": dict(rows.order_by("key").values_list("key", "value"))})
