"""Request-wide concerns that come before any door: request ids and the body size cap."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

from metadata.errors import BodyTooLarge
from metadata.ops.doors import door_of
from metadata.rules import MAX_BATCH_BODY_BYTES, MAX_BODY_BYTES

REQUEST_ID_HEADER = "X-Request-Id"
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


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


# Routes whose bodies may be larger than `MAX_BODY_BYTES`, by path: the first match decides
# (their parsers hold the same limit for bodies without a declared length).
BODY_LIMITS: tuple[tuple[re.Pattern[str], int], ...] = (
    # NDJSON lines from the platform's system of record (contract section 13).
    (re.compile(r"^/v1/provisioning/objects$"), 4 * 1024 * 1024),
    # A batch of up to 100 objects' documents (contract section 12).
    (re.compile(r"^/v1/[a-z_]+/partner_metadata$"), MAX_BATCH_BODY_BYTES),
)


def body_limit(path: str) -> int:
    """The body limit of a path: `BODY_LIMITS`' first match, else `MAX_BODY_BYTES`."""
    return next((limit for pattern, limit in BODY_LIMITS if pattern.match(path)), MAX_BODY_BYTES)


class BodySizeLimitMiddleware:
    """Refuse bodies over 64 KiB (or the path's limit in `BODY_LIMITS`) with 413 from their
    declared length, before anything reads them.

    Each door answers in its own error format (REST's `{"error"}`, GraphQL's `{"errors"}`),
    by the function its error module exposes for this: a GraphQL client must be able to read
    the refusal with the same code that reads every other GraphQL error. Bodies without a
    declared length are capped by DATA_UPLOAD_MAX_MEMORY_SIZE when read.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = body_limit(request.path) if length > MAX_BODY_BYTES else MAX_BODY_BYTES
        if length > limit:
            answer = import_string(BODY_TOO_LARGE_ANSWERS.get(door_of(request.path), _DEFAULT))
            return answer(BodyTooLarge(limit, length))
        return self.get_response(request)


# The door's answer to an oversized body; paths of no door (admin, ops) answer as REST does.
_DEFAULT = "metadata.rest.errors.body_too_large"
BODY_TOO_LARGE_ANSWERS = {
    "graphql": "metadata.graphql.errors.body_too_large",
    "rest": _DEFAULT,
}
