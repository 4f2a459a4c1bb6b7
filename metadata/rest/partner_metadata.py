"""`/v1/{collection}/{identifier}/partner_metadata`: the whole document, Monite-style.

One view class serves every linkable type; `metadata.rest.urls` mounts it once per entry of
the registry. The view only translates HTTP: it opens the target through
`selectors.open_target` (which runs the one permission in the contract's order: who you are,
whether the object exists and you may read it, whether you may change it), then writes
through `services`; a read is `selectors.read_document`, the same checks and the document in
one query. Rules, permissions and error wording live in the core;
`metadata.rest.errors` turns the core's errors into answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpResponse
from rest_framework.request import Request

from metadata import rules, selectors, services
from metadata.errors import NotJSON
from metadata.linkables import Target
from metadata.middleware import request_id_of
from metadata.models import Door
from metadata.permissions import Action
from metadata.principals import Principal
from metadata.rest import headers
from metadata.rest.base import LinkableView
from metadata.rest.parsers import MergePatchJSONParser, StrictJSONParser
from metadata.rest.permissions import MetadataPermission
from metadata.rest.schema import PartnerMetadataSchema
from metadata.rest.serializers import PartnerMetadataSerializer
from metadata.rules import Document

JSON_MEDIA_TYPE = "application/json"  # as DRF's JSONRenderer labels it

# A body without Content-Length (chunked) reaches a WSGI application empty, hence the hint.
MSG_EMPTY_BODY = (
    "The body is empty (a body is read only when sent with a Content-Length header); "
    'send a JSON object such as {"metadata": {}}.'
)


class PartnerMetadataView(LinkableView):
    """GET reads, PUT replaces (`{}` deletes), PATCH merges (RFC 7396) one object's document."""

    # DRF asks the one permission for a caller first (401 before anything else, 405
    # included); `selectors.open_target` then asks the same object about the target.
    permission_classes = (MetadataPermission,)
    parser_classes = (StrictJSONParser, MergePatchJSONParser)
    http_method_names = ("get", "put", "patch", "head")
    schema = PartnerMetadataSchema()

    def get(self, request: Request, identifier: str) -> HttpResponse:
        document = selectors.read_document(
            principal=request.user,
            linkable=self.mounted,
            identifier=identifier,
            entity_scope=headers.entity_scope(request),
        )
        return self.answer(document)

    def put(self, request: Request, identifier: str) -> HttpResponse:
        target = self.open(request, identifier, Action.WRITE)
        document = services.replace_document(
            target=target,
            document=self.document_sent(request),
            context=self.write_context(request),
            if_match=headers.if_match(request),
        )
        return self.answer(document)

    def patch(self, request: Request, identifier: str) -> HttpResponse:
        target = self.open(request, identifier, Action.WRITE)
        document = services.merge_document(
            target=target,
            patch=self.document_sent(request),
            context=self.write_context(request),
            if_match=headers.if_match(request),
        )
        return self.answer(document)

    # Translation helpers.

    def open(self, request: Request, identifier: str, action: Action) -> Target:
        return selectors.open_target(
            principal=request.user,
            linkable=self.mounted,
            identifier=identifier,
            action=action,
            entity_scope=headers.entity_scope(request),
        )

    def document_sent(self, request: Request) -> Any:
        """The `metadata` member of the body, unjudged: the service applies the rules."""
        if request.stream is None:
            raise NotJSON(MSG_EMPTY_BODY)
        data = request.data
        if isinstance(data, Mapping) and data.keys() == {"metadata"}:
            # What the serializer would return: it is built to explain any other body.
            return data["metadata"]
        envelope = PartnerMetadataSerializer(data=data)
        envelope.is_valid(raise_exception=True)
        return envelope.validated_data["metadata"]

    def write_context(self, request: Request) -> services.WriteContext:
        principal: Principal = request.user
        return services.WriteContext(
            actor_id=principal.user_id, door=Door.REST, request_id=request_id_of(request._request)
        )

    def answer(self, document: Document) -> HttpResponse:
        """`{"metadata": ...}` with the document's ETag, serialised once: the body carries
        the canonical text the ETag is computed on, where DRF's renderer would serialise the
        document a second time, on the path every read takes (`docs/benchmark.md`)."""
        canonical = rules.canonical_json(document)
        return HttpResponse(
            f'{{"metadata":{canonical}}}',
            content_type=JSON_MEDIA_TYPE,
            headers={headers.ETAG: rules.etag_of_json(canonical)},
        )
