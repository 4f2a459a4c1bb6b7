"""One structured log line per request, and the metrics of it.

The line carries the request id, the user id, the door, the method, the path, the status and
the duration; never a token, a body or a metadata value.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from metadata.middleware import request_id_of
from metadata.ops.doors import door_of
from metadata.ops.metrics import observe

logger = logging.getLogger("metadata.requests")


def user_id_of(request: HttpRequest) -> str | None:
    user: Any = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return str(user.pk)


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        door = door_of(request.path)
        observe(
            door=door, method=request.method or "", status=response.status_code, seconds=seconds
        )
        logger.info(
            "request",
            extra={
                "request_id": request_id_of(request),
                "user_id": user_id_of(request),
                "door": door,
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 2),
            },
        )
        return response
