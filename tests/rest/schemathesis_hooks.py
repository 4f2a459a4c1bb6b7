"""Schemathesis hooks for `test_schemathesis_live` (loaded through `SCHEMATHESIS_HOOKS`).

A schema-valid request can be rightly refused for reasons JSON Schema cannot state, each
stated in words in the document: a conditional write whose `If-Match` no longer holds (412,
like 409 a matter of the server's state), a document over its byte limit after the change
(422, `x-max-bytes`), a pagination token the server never issued (422), and a request line
longer than the HTTP server takes (414, on the lookups). The test lets
`positive_data_acceptance` take 412, 414 and 422 on those operations, and this check takes
the slack back: such a refusal passes only for exactly that reason.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis

TOO_LARGE = "value_error.too_large"
BAD_CURSOR = "value_error.invalid_lookup"
# The collection GET has two modes, stated in its description (parameters JSON Schema cannot
# tie together): `id` reads objects, `key` (with value, limit, pagination_token) finds them;
# one of the two, not both.
MODES = {"value_error.missing", "value_error.mixed_modes"}
# A batch write names objects the server's state decides on (missing or unreadable ones,
# stale `if_match` tags, documents over their byte limit after the change), and each object
# once: rules its description states and JSON Schema cannot.
BATCH_STATE = {
    "value_error.not_found",
    "value_error.precondition_failed",
    "value_error.duplicate",
    TOO_LARGE,
}
REQUEST_LINE_TOO_LONG = 414
REQUEST_LINE_LIMIT = 4094 - 200  # gunicorn's limit, less what the URL here leaves out


def _violation_types(response: Any) -> set[str]:
    try:
        return {item["type"] for item in response.json().get("detail", [])}
    except (ValueError, AttributeError, KeyError, TypeError):
        return set()


@schemathesis.check
def valid_requests_refused_only_as_documented(ctx: Any, response: Any, case: Any) -> None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    status = response.status_code
    if status == REQUEST_LINE_TOO_LONG:
        line = len(case.method) + len(response.request.url) + len(" HTTP/1.1")
        assert line > REQUEST_LINE_LIMIT, f"414 to a request line of {line} bytes"
        return None
    if status not in (412, 422):
        return None
    sent = {name.lower() for name in (case.headers or {})}
    if status == 412:
        assert "if-match" in sent, "412 to a request without If-Match"
        return None
    types = _violation_types(response)
    collection = "{identifier}" not in case.path
    if case.method.upper() == "PATCH" and collection:
        assert types and types <= BATCH_STATE, f"a schema-valid batch refused for {types}"
    elif case.method.upper() in ("PUT", "PATCH") and case.path.endswith("/partner_metadata"):
        assert types == {TOO_LARGE}, f"a schema-valid document refused for {types}"
    elif case.method.upper() == "GET" and collection and types and types <= MODES:
        return None
    else:
        assert "pagination_token" in (case.query or {}) and types == {BAD_CURSOR}, (
            f"a schema-valid request refused for {types}"
        )
    return None


def ndjson(ctx: Any, value: Any) -> bytes:
    """NDJSON bodies (the provisioning route, contract section 13): one JSON text a line."""
    lines = value if isinstance(value, list) else [value]
    return "".join(json.dumps(line) + "\n" for line in lines).encode("utf-8")


schemathesis.serializer("application/x-ndjson")(ndjson)
