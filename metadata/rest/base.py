"""What every REST view of the gateway shares: JSON only, Monite's echoed headers, no OPTIONS."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponseBase
from rest_framework.request import Request
from rest_framework.views import APIView

from metadata.linkables import Linkable
from metadata.rest import headers
from metadata.rest.negotiation import JSONOnlyNegotiation
from metadata.rest.throttling import PrincipalRateThrottle, show_budget


class GatewayAPIView(APIView):
    """An `APIView` that always answers JSON and echoes `X-Monite-Version`/`-Entity-Id`.

    `metadata_class = None`: OPTIONS is not part of the contract, so it is a 405 like any
    other method a view does not list (and `Allow` lists only what the view serves).
    Authenticated callers are counted against the core's per-caller rate limit.
    """

    content_negotiation_class = JSONOnlyNegotiation
    metadata_class = None
    throttle_classes = (PrincipalRateThrottle,)

    def finalize_response(
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)
        headers.echo(request, response)
        show_budget(request, response)
        return response


class LinkableView(GatewayAPIView):
    """A view mounted once per registry entry: `as_view(linkable=...)`."""

    linkable: Linkable | None = None

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        """Refuse at start-up a route that names no registry entry."""
        if not isinstance(initkwargs.get("linkable"), Linkable):
            raise ImproperlyConfigured(f"{cls.__name__}.as_view() needs linkable=<Linkable>.")
        return super().as_view(**initkwargs)

    @property
    def mounted(self) -> Linkable:
        """The registry entry this route serves (set by `as_view`)."""
        assert self.linkable is not None
        return self.linkable
