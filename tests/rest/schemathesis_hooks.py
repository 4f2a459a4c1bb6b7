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
from hypothesis import strategies as st

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
REQUEST_LINE_LIMIT = 8190 - 200  # gunicorn's limit, less what the URL here leaves out


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


# NDJSON bodies (the provisioning route, contract section 13) are text, drawn here as lines a
# system of record could send: objects of every type (under identifiers no demo object has,
# and with no member that would change one), other JSON values, and text that is not JSON.
# A value that is not text has no NDJSON form, so the body is never a "wrong type": the
# route's refusals are its size and its lines, and each line that fails, fails alone (200).
# The hooks run in schemathesis's process, without Django: the types as the contract names them.
LINKED_OBJECT_TYPES = ("ACCOUNT", "ACCOUNT_USER", "PROPERTY", "ENTITY", "COUNTERPART", "PAYABLE")
_OBJECT_LINE = st.fixed_dictionaries(
    {
        "type": st.sampled_from(LINKED_OBJECT_TYPES),
        "id": st.text(max_size=12).map(lambda text: f"fuzz-{text}"),
    },
    optional={"name": st.text(max_size=12), "address": st.text(max_size=12)},
).map(json.dumps)
_OTHER_LINE = st.one_of(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=6,
    ).map(json.dumps),
    st.text(max_size=20),
)
_LINE = st.one_of(_OBJECT_LINE, _OTHER_LINE).map(lambda line: " ".join(line.splitlines()))
NDJSON_BODIES = st.lists(_LINE, min_size=1, max_size=5).map(
    lambda lines: ("".join(f"{line}\n" for line in lines) + "{}\n").encode("utf-8")
)
schemathesis.openapi.media_type("application/x-ndjson", NDJSON_BODIES)
