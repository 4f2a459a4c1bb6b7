"""HTTP headers the REST door reads and writes: Monite's echoed headers and `If-Match`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase

MONITE_VERSION = "X-Monite-Version"
MONITE_ENTITY_ID = "X-Monite-Entity-Id"
IF_MATCH = "If-Match"
ETAG = "ETag"

ECHOED_HEADERS = (MONITE_VERSION, MONITE_ENTITY_ID)
"""Accepted and sent back unchanged, as Monite does; neither is required."""

WEAK_PREFIX = "W/"


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
    return parse_if_match(header)


def parse_if_match(header: str) -> list[str]:
    """The entity tags of an `If-Match` list (RFC 9110 13.1.1), in one pass over the header.

    Elements are split at commas outside quotes; each element, without surrounding white
    space, is `*`, a strong or weak (`W/`) quoted tag, or a bare tag (a client that dropped
    the quotes; it is compared quoted). An element that is none of these (`"a" "b"`, two
    words) is not a tag and matches nothing. Linear in the header's length, whatever it holds:
    no pattern that can backtrack.
    """
    tags = []
    for element in _elements(header):
        tag = _entity_tag(element.strip())
        if tag is not None:
            tags.append(tag)
    return tags


def _elements(header: str) -> list[str]:
    """The header split at each comma that is not inside a quoted string."""
    elements, start, quoted = [], 0, False
    for index, char in enumerate(header):
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            elements.append(header[start:index])
            start = index + 1
    elements.append(header[start:])
    return elements


def _entity_tag(element: str) -> str | None:
    if not element:
        return None
    if element == "*":
        return element
    opaque = element.removeprefix(WEAK_PREFIX)
    if opaque.startswith('"') and opaque.endswith('"') and '"' not in opaque[1:-1]:
        return element if len(opaque) >= 2 else None
    if any(char.isspace() for char in element):
        return None
    return element if element.endswith('"') else f'"{element}"'


def echo(request: HttpRequest, response: HttpResponseBase) -> None:
    """Copy the Monite headers the client sent onto the answer (success or error alike)."""
    for name in ECHOED_HEADERS:
        value = request.headers.get(name)
        if value is not None and "\r" not in value and "\n" not in value:
            response[name] = value
