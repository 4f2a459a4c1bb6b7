"""Answers for paths the REST door does not serve, in the door's JSON error form."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from metadata.errors import NotFound
from metadata.rest.base import GatewayAPIView


class UnknownPathView(GatewayAPIView):
    """A partner_metadata path outside the registry: the same 404 as an unknown object.

    It needs no credentials: it says nothing about any object.
    """

    authentication_classes = ()
    permission_classes = ()
    schema = None  # not part of the API

    def dispatch_not_found(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        raise NotFound()

    get = put = patch = post = delete = head = options = dispatch_not_found
