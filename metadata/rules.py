"""The rules every metadata document obeys, whichever door wrote it (contract section 4).

Pure functions over plain Python values: no Django, no I/O. Each check raises
`RuleViolation` with every broken rule it found, located by a path into the document.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from metadata.errors import NotJSON, RuleViolation, Violation

MAX_DOCUMENT_BYTES = 2000
MAX_KEY_LENGTH = 100
MAX_DEPTH = 16
MAX_BODY_BYTES = 64 * 1024
MAX_BATCH_BODY_BYTES = 256 * 1024  # a batch of 100 documents (contract section 12)

MSG_NOT_OBJECT = "metadata must be a JSON object"
MSG_KEY_NOT_STRING = "keys must be strings"
MSG_KEY_EMPTY = "key must not be empty"
MSG_KEY_TOO_LONG = "key is {length} characters; the limit is {limit}"
MSG_KEY_CONTROL = "key must not contain control characters"
MSG_KEY_BLANK = "key must not be only white space"
MSG_NUL = "strings must not contain the NUL character (U+0000)"
MSG_NOT_FINITE = "NaN and Infinity are not JSON numbers"
MSG_NOT_JSON_TYPE = "value of type {type} is not JSON"
MSG_TOO_DEEP = "value is nested {depth} levels deep; the limit is {limit}"
MSG_TOO_LARGE = "metadata is {size} bytes; the limit is {limit}"
MSG_BODY_NOT_JSON = "The body is not valid JSON: {reason}."
MSG_VALUE_NOT_JSON = "The value is not valid JSON: {reason}."

# C0 and C1 control characters (U+0000-U+001F, U+007F-U+009F).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Python's json module recurses once per nesting level; below this many brackets it cannot
# reach the interpreter's recursion limit, so only larger texts pay for the depth scan.
_SAFE_BRACKETS = 500

Document = dict[str, Any]


_CANONICAL = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, sort_keys=True, allow_nan=False
)


def canonical_json(document: Any) -> str:
    """The one serialisation the size rule and ETags are computed on."""
    return _CANONICAL.encode(document)  # `json.dumps` with options builds an encoder per call


def canonical_value(value: Any) -> Any:
    """The value with every object's keys sorted, as it is stored.

    Stores that compare JSON as text (SQLite) then find equal objects whatever the order
    their keys were sent in.
    """
    if isinstance(value, dict | list):
        return json.loads(canonical_json(value))
    return value


def document_size(document: Mapping[str, Any]) -> int:
    """Bytes of the document as canonical, compact UTF-8 JSON."""
    return len(canonical_json(document).encode("utf-8"))


def document_etag(document: Mapping[str, Any]) -> str:
    """A strong validator for the whole document, stable across key order and doors."""
    return etag_of_json(canonical_json(document))


def etag_of_json(canonical: str) -> str:
    """`document_etag` of a document already serialised by `canonical_json`."""
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f'"{digest[:32]}"'


def value_digest(value: Any) -> str:
    """A digest of one value, for compare-and-set (Shopify's `compareDigest`)."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def value_depth(value: Any) -> int:
    """Depth of a JSON value: 0 for a scalar, 1 + the deepest member for a container.

    Iterative, so a hostile value cannot exhaust the interpreter's stack.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            members = list(node.values())
        elif isinstance(node, list):
            members = node
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((member, depth) for member in members)
    return deepest


def key_violations(key: Any, loc: tuple[str | int, ...]) -> list[Violation]:
    if not isinstance(key, str):
        return [Violation(loc, MSG_KEY_NOT_STRING, "type_error.str")]
    if key == "":
        return [Violation(loc, MSG_KEY_EMPTY, "value_error.key.empty")]
    found = []
    if len(key) > MAX_KEY_LENGTH:
        message = MSG_KEY_TOO_LONG.format(length=len(key), limit=MAX_KEY_LENGTH)
        found.append(Violation(loc, message, "value_error.key.too_long"))
    if _CONTROL.search(key):
        found.append(Violation(loc, MSG_KEY_CONTROL, "value_error.key.control_character"))
    elif key.strip() == "":
        found.append(Violation(loc, MSG_KEY_BLANK, "value_error.key.blank"))
    return found


def value_violations(value: Any, loc: tuple[str | int, ...]) -> list[Violation]:
    """Type, finiteness, NUL and depth of one value, walked without recursion."""
    found: list[Violation] = []
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if node is None or isinstance(node, bool | int):
            continue
        if isinstance(node, float):
            if not math.isfinite(node):
                found.append(Violation(loc, MSG_NOT_FINITE, "value_error.not_finite"))
        elif isinstance(node, str):
            if "\x00" in node:
                found.append(Violation(loc, MSG_NUL, "value_error.nul"))
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            for member_key, member in node.items():
                if not isinstance(member_key, str):
                    found.append(Violation(loc, MSG_KEY_NOT_STRING, "type_error.str"))
                elif "\x00" in member_key:
                    found.append(Violation(loc, MSG_NUL, "value_error.nul"))
                stack.append(member)
        else:
            message = MSG_NOT_JSON_TYPE.format(type=type(node).__name__)
            found.append(Violation(loc, message, "type_error.json"))
        if found:
            return found
    depth = value_depth(value)
    if depth > MAX_DEPTH:
        message = MSG_TOO_DEEP.format(depth=depth, limit=MAX_DEPTH)
        return [Violation(loc, message, "value_error.too_deep")]
    return []


def entry_violations(key: Any, value: Any) -> list[Violation]:
    """Rules of one key and its value, as `set_key` sees them before the document check."""
    loc: tuple[str | int, ...] = ("metadata", key if isinstance(key, str) else repr(key))
    return key_violations(key, loc) + value_violations(value, loc)


def check_entry(key: Any, value: Any) -> None:
    found = entry_violations(key, value)
    if found:
        raise RuleViolation(found)


def check_is_object(document: Any) -> None:
    if not isinstance(document, dict):
        raise RuleViolation([Violation(("metadata",), MSG_NOT_OBJECT, "type_error.dict")])


def check_document(document: Any, *, entries: Iterable[str] | None = None) -> None:
    """Every rule of a whole document: an object, valid keys and values, at most 2000 bytes.

    `entries` limits the key and value rules to those keys (every key by default): a write
    checks the entries it changes, since the ones it keeps passed the rules when written.
    The size is always the whole document's.
    """
    check_is_object(document)
    found: list[Violation] = []
    for key in document if entries is None else entries:
        found.extend(entry_violations(key, document[key]))
    if found:
        raise RuleViolation(found)
    size = document_size(document)
    if size > MAX_DOCUMENT_BYTES:
        message = MSG_TOO_LARGE.format(size=size, limit=MAX_DOCUMENT_BYTES)
        raise RuleViolation([Violation(("metadata",), message, "value_error.too_large")])


def apply_merge_patch(document: Mapping[str, Any], patch: Mapping[str, Any]) -> Document:
    """JSON Merge Patch (RFC 7396) of a document: `null` removes a key, objects merge."""
    result = dict(document)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            current = result.get(key)
            result[key] = apply_merge_patch(current if isinstance(current, dict) else {}, value)
        else:
            result[key] = value
    return result


def bracket_depth(text: str) -> int:
    """Deepest nesting of `[`/`{` in JSON text, ignoring brackets inside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


# One decoder for every call: `json.loads` with an option builds a new one each time.
_STRICT_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def parse_json(text: str | bytes, *, message: str = MSG_BODY_NOT_JSON) -> Any:
    """Strict JSON: NaN and Infinity refused, invalid UTF-8 refused, nesting bounded.

    Nesting far beyond the depth rule (plus the request envelope) breaks the depth rule
    here, before the parser recurses, so hostile input never reaches the interpreter's
    recursion limit.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise NotJSON(message.format(reason="it is not UTF-8")) from error
    if text.count("[") + text.count("{") > _SAFE_BRACKETS:
        depth = bracket_depth(text)
        if depth > MAX_DEPTH + 2:
            too_deep = MSG_TOO_DEEP.format(depth=depth, limit=MAX_DEPTH)
            raise RuleViolation([Violation(("metadata",), too_deep, "value_error.too_deep")])
    try:
        if text.startswith("\ufeff"):  # as `json.loads` does
            raise json.JSONDecodeError("Unexpected UTF-8 BOM", text, 0)
        parsed = _STRICT_DECODER.decode(text)
    except RecursionError as error:  # pragma: no cover - guarded by the depth scan above
        raise NotJSON(message.format(reason="it is nested too deeply")) from error
    except ValueError as error:
        reason = str(error) if "not allowed" in str(error) else _describe(error)
        raise NotJSON(message.format(reason=reason)) from error
    # `"\ud800"` is valid JSON grammar but not Unicode: no database can store it (SQLite and
    # PostgreSQL fail to encode it), so it is refused here, like text that is not UTF-8.
    if (not text.isascii() or "\\u" in text) and not _is_unicode(parsed):
        raise NotJSON(message.format(reason="it holds a lone surrogate, which is not Unicode"))
    return parsed


def _is_unicode(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _describe(error: ValueError) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at line {error.lineno}, column {error.colno}"
    return "it could not be parsed"
