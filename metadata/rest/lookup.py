"""`GET /v1/{collection}/partner_metadata?key=K[&value=V...]`: find objects by metadata.

Partners store their own ids in metadata to find the object again (contract section 9).
The view parses the query (each `value` is JSON text, read by the rules' strict parser) and
asks `selectors.lookup`, which returns only objects the caller may read, in identifier
order, a page at a time.
"""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from metadata import rules, selectors
from metadata.permissions import MetadataPermission
from metadata.rest import headers
from metadata.rest.base import LinkableView
from metadata.rest.schema import LookupSchema
from metadata.rest.serializers import LookupQuerySerializer


class PartnerMetadataLookupView(LinkableView):
    """Objects of one type that have a key (equal to any of the values, when given)."""

    validation_root = "query"  # 422 locations start at the query, not a body
    permission_classes = (MetadataPermission,)
    http_method_names = ("get", "head")
    schema = LookupSchema()

    def get(self, request: Request) -> Response:
        query = LookupQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        values = [
            rules.parse_json(text, message=rules.MSG_VALUE_NOT_JSON)
            for text in params.get("value", [])
        ]
        page = selectors.lookup(
            principal=request.user,
            linkable=self.mounted,
            key=params["key"],
            values=values or None,
            limit=params.get("limit", selectors.LOOKUP_MAX_LIMIT),
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
