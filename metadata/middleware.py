"""Request-wide concerns that come before any door: request ids and the body size cap."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

from metadata.errors import BodyTooLarge
from metadata.rules import MAX_BODY_BYTES

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


class BodySizeLimitMiddleware:
    """Refuse a body over its route's limit with 413 from its declared length, before anything
    reads it (a body without a declared length is capped where it is read: the doors' parsers
    and DATA_UPLOAD_MAX_MEMORY_SIZE).

    The refusal is a `BodyTooLarge`, which this middleware hands to the door the path belongs
    to (`settings.BODY_SIZE_DOORS`): each door answers in its own error format, so a GraphQL
    client reads it with the code that reads every other GraphQL error, and each door may
    allow its routes larger bodies. A path of no door (the admin, operations) is answered in
    plain text. This middleware knows no door: the settings name them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.doors = tuple(door_of_setting(*entry) for entry in settings.BODY_SIZE_DOORS)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length <= MAX_BODY_BYTES:
            return self.get_response(request)
        door = next((door for door in self.doors if request.path.startswith(door.prefix)), None)
        limit = door.limit(request.path) if door else MAX_BODY_BYTES
        if length <= limit:
            return self.get_response(request)
        refusal = BodyTooLarge(limit, length)
        return door.answer(refusal) if door else plain_answer(refusal)


@dataclass(frozen=True)
class BodySizeDoor:
    """A door's part in the body limit: the paths it serves, the larger limits of some of its
    routes (pattern and bytes; the first match decides) and its answer to a refusal."""

    prefix: str
    answer: Callable[[BodyTooLarge], HttpResponse]
    limits: tuple[tuple[re.Pattern[str], int], ...] = ()

    def limit(self, path: str) -> int:
        return next(
            (limit for pattern, limit in self.limits if pattern.match(path)), MAX_BODY_BYTES
        )


def door_of_setting(prefix: str, answer: str, limits: str | None = None) -> BodySizeDoor:
    """One entry of `settings.BODY_SIZE_DOORS`: a path prefix and the dotted paths of the
    door's answer and (optionally) of its table of larger limits."""
    return BodySizeDoor(
        prefix=prefix,
        answer=import_string(answer),
        limits=tuple(import_string(limits)) if limits else (),
    )


def plain_answer(refusal: BodyTooLarge) -> HttpResponse:
    """413 for a path of no door: the message, in plain text."""
    return HttpResponse(refusal.message, status=413, content_type="text/plain; charset=utf-8")
