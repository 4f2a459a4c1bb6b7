"""What every REST view of the gateway shares: JSON only, Monite's echoed headers, no OPTIONS."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseBase
from rest_framework.request import Request
from rest_framework.views import APIView

from metadata.rest import headers
from metadata.rest.negotiation import JSONOnlyNegotiation


class GatewayAPIView(APIView):
    """An `APIView` that always answers JSON and echoes `X-Monite-Version`/`-Entity-Id`.

    `metadata_class = None`: OPTIONS is not part of the contract, so it is a 405 like any
    other method a view does not list (and `Allow` lists only what the view serves).
    """

    content_negotiation_class = JSONOnlyNegotiation
    metadata_class = None

    def finalize_response(
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)
        headers.echo(request, response)
        return response
