"""`/v1/{collection}/partner_metadata`: the collection's metadata, many objects at a time.

- `GET ?key=K[&value=V...]` finds objects by metadata (contract section 9): partners store
  their own ids in metadata to find the object again. Each `value` is JSON text, read by
  the rules' strict parser; `lookups.lookup` returns only objects the caller may read, in
  identifier order, a page at a time.
- `GET ?id=A&id=B...` reads up to 100 objects by identifier (contract section 12): the
  readable ones, in the order asked, others omitted (`batches.read_documents`).
- `PATCH {"data": [{"id", "metadata", "if_match"?}, ...]}` merges into up to 100 objects'
  documents at once, all or nothing (`batches.merge_documents`); a refused item refuses
  the batch, and `metadata.rest.errors` lists every refused item.

The two GET modes take disjoint parameters: a query that mixes them is refused (422), and
so is a parameter neither takes (a misspelt `vaule=` would otherwise widen a lookup to every
object that has the key).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.http import HttpResponse
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from metadata import batches, lookups, rules, services
from metadata.errors import NotJSON
from metadata.middleware import request_id_of
from metadata.models import Door
from metadata.principals import Principal
from metadata.rest import headers
from metadata.rest.base import LinkableView
from metadata.rest.parsers import BatchJSONParser
from metadata.rest.permissions import MetadataPermission
from metadata.rest.schema_collection import LookupSchema
from metadata.rest.serializers import (
    BatchSerializer,
    LookupQuerySerializer,
    ReadManyQuerySerializer,
)
from metadata.rest.throttling import charge

JSON_MEDIA_TYPE = "application/json"
LOOKUP_PARAMETERS = ("key", "value", "limit", "pagination_token")
QUERY_PARAMETERS = frozenset(("id", *LOOKUP_PARAMETERS))
MSG_UNKNOWN_PARAMETER = (
    "unknown query parameter; this route takes id (read-many), or key, value, limit and "
    "pagination_token (lookup)"
)
MSG_MIXED = (
    "id reads objects by identifier; key, value, limit and pagination_token find objects by "
    "metadata: send one or the other, not both"
)
MSG_EMPTY_BODY = (
    "The body is empty (a body is read only when sent with a Content-Length header); "
    'send a JSON object such as {"data": [{"id": "...", "metadata": {}}]}.'
)
_ITEM_MEMBERS = frozenset(("id", "metadata", "if_match"))


class PartnerMetadataLookupView(LinkableView):
    """Lookup by metadata and read-many (GET), and the batch write (PATCH)."""

    validation_root = "query"  # 422 locations of a GET start at the query
    permission_classes = (MetadataPermission,)
    parser_classes = (BatchJSONParser,)
    http_method_names = ("get", "patch", "head")
    schema = LookupSchema()

    def get(self, request: Request) -> Response:
        unknown = [name for name in request.query_params if name not in QUERY_PARAMETERS]
        if unknown:
            extra = [ErrorDetail(MSG_UNKNOWN_PARAMETER, code="value_error.extra")]
            raise ValidationError({name: extra for name in unknown})
        if "id" in request.query_params:
            return self.read_many(request)
        query = LookupQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        values = [
            rules.parse_json(text, message=rules.MSG_VALUE_NOT_JSON)
            for text in params.get("value", [])
        ]
        page = lookups.lookup(
            principal=request.user,
            linkable=self.mounted,
            key=params["key"],
            values=values or None,
            limit=params.get("limit", lookups.LOOKUP_MAX_LIMIT),
            cursor=params.get("pagination_token"),
            entity_scope=headers.entity_scope(request),
        )
        return Response(
            {
                "data": [
                    {"id": identifier, "metadata": document} for identifier, document in page.items
                ],
                "next_pagination_token": page.next_cursor,
            }
        )

    def read_many(self, request: Request) -> Response:
        mixed = [name for name in LOOKUP_PARAMETERS if name in request.query_params]
        if mixed:
            raise ValidationError(
                {name: [ErrorDetail(MSG_MIXED, code="value_error.mixed_modes")] for name in mixed}
            )
        query = ReadManyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        identifiers = query.validated_data["id"]
        charge(request, len(identifiers) - 1)
        documents = batches.read_documents(
            principal=request.user,
            linkable=self.mounted,
            identifiers=identifiers,
            entity_scope=headers.entity_scope(request),
        )
        return Response(
            {"data": [{"id": identifier, "metadata": doc} for identifier, doc in documents]}
        )

    def patch(self, request: Request) -> HttpResponse:
        self.validation_root = "body"
        items = self.items_sent(request)
        charge(request, len(items) - 1)  # the request itself was counted as one
        principal: Principal = request.user
        written = batches.merge_documents(
            principal=principal,
            items=[
                batches.MergeItem(
                    linkable=self.mounted,
                    identifier=item["id"],
                    patch=item["metadata"],
                    if_match=(
                        headers.parse_if_match(item["if_match"]) if "if_match" in item else None
                    ),
                )
                for item in items
            ],
            context=services.WriteContext(
                actor_id=principal.user_id,
                door=Door.REST,
                request_id=request_id_of(request._request),
            ),
            entity_scope=headers.entity_scope(request),
        )
        answers = []
        for item in written:
            canonical = rules.canonical_json(item.document)
            identifier = json.dumps(item.target.identifier, ensure_ascii=False)
            etag = json.dumps(rules.etag_of_json(canonical))
            answers.append(f'{{"id":{identifier},"metadata":{canonical},"etag":{etag}}}')
        return HttpResponse('{"data":[' + ",".join(answers) + "]}", content_type=JSON_MEDIA_TYPE)

    def items_sent(self, request: Request) -> list[Mapping[str, Any]]:
        """The body's items, unjudged beyond their envelope: the service applies the rules.

        A well-formed body skips the serializer, which is built to explain any other."""
        if request.stream is None:
            raise NotJSON(MSG_EMPTY_BODY)
        data = request.data
        if _well_formed(data):
            return list(data["data"])
        envelope = BatchSerializer(data=data)
        envelope.is_valid(raise_exception=True)
        return list(envelope.validated_data["data"])


def _well_formed(data: Any) -> bool:
    """What `BatchSerializer` accepts unchanged, checked without it."""
    if not isinstance(data, Mapping) or data.keys() != {"data"}:
        return False
    items = data["data"]
    if not isinstance(items, list) or not 1 <= len(items) <= batches.BATCH_MAX_ITEMS:
        return False
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, Mapping) or not {"id", "metadata"} <= item.keys():
            return False
        if not item.keys() <= _ITEM_MEMBERS:
            return False
        identifier = item["id"]
        if not isinstance(identifier, str) or not identifier or identifier in seen:
            return False
        if "if_match" in item and not (isinstance(item["if_match"], str) and item["if_match"]):
            return False
        seen.add(identifier)
    return True
