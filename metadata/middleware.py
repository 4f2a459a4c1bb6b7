"""Request-wide concerns that come before any door: request ids and the body size cap."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from metadata.rules import MAX_BODY_BYTES

REQUEST_ID_HEADER = "X-Request-Id"
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
MSG_BODY_TOO_LARGE = "The request body is {size} bytes; the limit is {limit}."


def request_id_of(request: HttpRequest) -> str:
    return getattr(request, "request_id", "")


class RequestIdMiddleware:
    """Accept the client's `X-Request-Id` (when it is a sane token) or make one; echo it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        request.request_id = sent if _CLIENT_REQUEST_ID.match(sent) else uuid.uuid4().hex
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        return response


# Routes whose bodies may be larger than `MAX_BODY_BYTES`, with their own limit (their parser
# holds it for bodies without a declared length).
BODY_LIMITS: dict[str, int] = {"/v1/provisioning/objects": 4 * 1024 * 1024}


class BodySizeLimitMiddleware:
    """Refuse bodies over 64 KiB (or their route's `BODY_LIMITS`) with 413 from their declared
    length, before anything reads them.

    Bodies without a declared length are capped by DATA_UPLOAD_MAX_MEMORY_SIZE when read.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = BODY_LIMITS.get(request.path_info, MAX_BODY_BYTES)
        if length > limit:
            return body_too_large(length, limit)
        return self.get_response(request)


def body_too_large(size: int | None = None, limit: int = MAX_BODY_BYTES) -> HttpResponse:
    message = MSG_BODY_TOO_LARGE.format(size=size if size else "over", limit=limit)
    if size is None:
        message = f"The request body is over the limit of {limit} bytes."
    body = {"error": {"type": "payload_too_large", "message": message}}
    return HttpResponse(json.dumps(body), status=413, content_type="application/json")
