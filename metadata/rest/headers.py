"""HTTP headers the REST door reads and writes: Monite's echoed headers and `If-Match`."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponseBase

MONITE_VERSION = "X-Monite-Version"
MONITE_ENTITY_ID = "X-Monite-Entity-Id"
IF_MATCH = "If-Match"
ETAG = "ETag"

ECHOED_HEADERS = (MONITE_VERSION, MONITE_ENTITY_ID)
"""Accepted and sent back unchanged, as Monite does; neither is required."""

# An entity tag (strong or weak, RFC 9110 8.8.3) or `*`; anything else in the list is read
# as a bare tag, so clients that drop the quotes still compare against the right value.
_ENTITY_TAG = re.compile(r'\s*(\*|(?:W/)?"[^"]*"|[^,\s]+)\s*(?:,|$)')


def entity_scope(request: HttpRequest) -> str | None:
    """The `X-Monite-Entity-Id` header, as the permission's scope (None when not sent)."""
    return request.headers.get(MONITE_ENTITY_ID)


def if_match(request: HttpRequest) -> list[str] | None:
    """The tags of `If-Match`, quoted as `rules.document_etag` quotes them; None when absent.

    A header with no usable tag gives an empty list, which matches nothing (412): a client
    that asked for a conditional write never gets an unconditional one.
    """
    header = request.headers.get(IF_MATCH)
    if header is None:
        return None
    tags = []
    for match in _ENTITY_TAG.finditer(header):
        tag = match.group(1)
        if tag != "*" and not tag.endswith('"'):
            tag = f'"{tag}"'
        tags.append(tag)
    return tags


def echo(request: HttpRequest, response: HttpResponseBase) -> None:
    """Copy the Monite headers the client sent onto the answer (success or error alike)."""
    for name in ECHOED_HEADERS:
        value = request.headers.get(name)
        if value is not None and "\r" not in value and "\n" not in value:
            response[name] = value
