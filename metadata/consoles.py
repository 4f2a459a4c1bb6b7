"""The API consoles (Swagger UI, ReDoc, GraphiQL) fetch nothing from outside the gateway.

Their bundles are served from our static files (drf-spectacular-sidecar,
graphene-django-graphiql-static); this Content-Security-Policy makes the browser hold them to
it: a script, stylesheet, image, font or connection to any other origin is refused before a
request is made (ReDoc's bundle, for one, shows a logo from its vendor's CDN). Inline scripts
and styles stay allowed: the pages configure their bundles inline.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse

CONSOLE_CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",  # ReDoc's search index runs in a worker made from a blob
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def set_console_csp(response: HttpResponse) -> HttpResponse:
    response.headers.setdefault("Content-Security-Policy", CONSOLE_CSP)
    return response


def console_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a console's view so that its page carries `CONSOLE_CSP`."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return set_console_csp(view(request, *args, **kwargs))

    return wrapped
