"""What the REST door's operations share in their description: the error answers with their
bodies, the headers in both directions, and the demo data their examples name.

drf-spectacular does not document 4xx by itself: every operation lists here the statuses
it can answer with, and the error body each carries.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from metadata import rules
from metadata.rest import headers
from metadata.rest.serializers import ErrorResponseSerializer, ValidationErrorResponseSerializer


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorResponseSerializer, description=description)


def refusal(description: str) -> OpenApiResponse:
    """A 422: the error, and `detail` saying where (`loc`), which rule and its `type`."""
    return OpenApiResponse(ValidationErrorResponseSerializer, description=description)


ERRORS: dict[int, OpenApiResponse] = {
    400: error(
        "The body is not JSON (NaN and Infinity included), not UTF-8, or empty (a body is read "
        "only when sent with Content-Length)."
    ),
    401: error("No credentials, or a bad or expired token (or an inactive user)."),
    403: error("The object's metadata is readable by the caller but not changeable."),
    404: error(
        "No such object, a malformed identifier, an object outside X-Monite-Entity-Id, or "
        "one the caller may not read: one answer for all, so identifiers cannot be probed."
    ),
    405: error("The method is not one this path serves (see the Allow header)."),
    412: error("If-Match does not match the document's current ETag; nothing was written."),
    413: error(f"The body is over {rules.MAX_BODY_BYTES} bytes; refused before parsing."),
    415: error("The body is not sent as application/json."),
    429: error(
        "Too many requests from this caller (one budget across both doors); see Retry-After."
    ),
    422: refusal(
        'The body is not exactly {"metadata": {...}} (the member missing, another member '
        "beside it, or a body that is not an object), or the document breaks a rule: over "
        f"{rules.MAX_DOCUMENT_BYTES} bytes, a bad key, nested over {rules.MAX_DEPTH} levels, "
        'not an object. `detail` says where (loc, from "body"), which rule and by how much.'
    ),
}


URI_TOO_LONG = OpenApiResponse(
    OpenApiTypes.STR,
    description=(
        "The request line (method, path and query) is over 8190 bytes: the HTTP server "
        "(gunicorn's limit_request_line) refuses it with its own HTML page before the "
        "gateway reads it. Long `value` or `id` lists call for several requests."
    ),
)


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The documented error answers of an operation, by status code."""
    return {code: ERRORS[code] for code in codes}


REQUEST_ID = OpenApiParameter(
    "X-Request-Id",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description=(
        "The request's id (the client's X-Request-Id when it sent a sane one); on every "
        "answer, errors included."
    ),
    response=[200],
)
# Contract section 8: the demo data's objects, so that examples reach the logic of every
# operation (a random identifier names nothing and answers 404).
DEMO_ENTITY = "3a9c5e1e-0000-4000-8000-000000000001"
DEMO_IDENTIFIERS: dict[str, str | int] = {
    "accounts": "A-154321",
    "account_users": "some.test@email.com",
    "properties": 1,
    "entities": DEMO_ENTITY,
    "counterparts": "3a9c5e1e-0000-4000-8000-000000000011",
    "payables": "3a9c5e1e-0000-4000-8000-000000000021",
}
DEMO_CLIENT_GRANT = {
    "grant_type": "client_credentials",
    "client_id": "3a9c5e1e-0000-4000-8000-0000000000c1",
    "client_secret": "demo-client-secret",
}

MONITE_HEADERS = [
    OpenApiParameter(
        headers.MONITE_VERSION,
        str,
        OpenApiParameter.HEADER,
        description="Monite's API version; accepted, not required, echoed back.",
    ),
    OpenApiParameter(
        headers.MONITE_ENTITY_ID,
        str,
        OpenApiParameter.HEADER,
        description=(
            "An entity's UUID. Scopes entities, counterparts and payables to that entity (an "
            "object outside it, or a malformed value, is 404); ignored by accounts, account "
            "users and properties. Echoed back."
        ),
        examples=[OpenApiExample("Entity One (demo data)", value=DEMO_ENTITY)],
    ),
    *(
        OpenApiParameter(
            name,
            str,
            OpenApiParameter.HEADER,
            description="Echoed when sent, on every answer (errors included).",
            response=[200],
        )
        for name in headers.ECHOED_HEADERS
    ),
    REQUEST_ID,
]
IF_MATCH_RULES = (
    "**If-Match** (optional). Absent: the write is unconditional. Present: a comma-separated "
    'list of entity tags (`"<tag>"`, `W/"<tag>"`, `*`; a tag sent without its quotes is read '
    "as if quoted). The write happens only if the list holds `*` (which matches always, also "
    "when the object has no metadata yet) or the document's current ETag, compared strongly "
    "(a weak tag never matches); otherwise 412 and nothing is written. A header that is "
    "present but holds no tag (an empty value, or only commas and spaces) matches nothing: "
    "412. The order of answers: 413 (a body over the limit) first, then 401, 404, 403, then "
    "400 or 415 for a body that is not JSON, 422 for a body that is not "
    '`{"metadata": {...}}`, then 412, then 422 for a document that breaks a rule.'
)
RATE_LIMIT_HEADERS = [
    OpenApiParameter(
        name,
        int,
        OpenApiParameter.HEADER,
        description=description,
        response=[200, 429],
    )
    for name, description in (
        ("X-RateLimit-Limit", "Units of work (items) the caller may spend per window."),
        ("X-RateLimit-Remaining", "Units left in the current window."),
        ("X-RateLimit-Reset", "Seconds until the current window ends and the budget renews."),
    )
]
IF_MATCH = OpenApiParameter(
    headers.IF_MATCH,
    str,
    OpenApiParameter.HEADER,
    description=IF_MATCH_RULES,
    examples=[OpenApiExample("any current document", value="*")],
)
ETAG = OpenApiParameter(
    headers.ETAG,
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="A strong validator of the document; send it back in If-Match.",
    response=[200],
)
