"""One provisioning line, parsed and checked against its type's registry entry.

Pure: no database. What a line may carry comes from the registry (`Linkable.provisioning`);
whether its parent and users exist is the importer's to say, with the batch's objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from metadata.errors import NotJSON, RuleViolation
from metadata.linkables import REGISTRY, Linkable
from metadata.rules import parse_json

MEMBERS_KEY = "users"


class LineError(Exception):
    """Why one line was not applied; said to the caller as it is."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Line:
    number: int
    linkable: Linkable
    identifier: str
    key: Any  # the identifier as its model field holds it
    retired: bool
    values: dict[str, Any]  # model field -> value, for the attributes the line carries
    parent: Any  # the parent's identifier as its model field holds it, or None
    parent_identifier: str | None
    members: tuple[str, ...] | None  # emails, when the line carries `users`


def _type_names() -> str:
    return ", ".join(REGISTRY)


def _identifier(linkable: Linkable, raw: Any, what: str) -> tuple[str, Any]:
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str):
        raise LineError(f"{what} must be a string: a {linkable.name} identifier")
    try:
        key = linkable.parse_identifier(raw)
    except ValueError as error:
        raise LineError(
            f"{what} {raw[:100]!r} is not a {linkable.name} identifier "
            f"(a {linkable.identifier_kind})"
        ) from error
    meta = linkable.model._meta
    if linkable.identifier_field != "pk":
        limit = meta.get_field(linkable.identifier_field).max_length
        if limit and len(raw) > limit:
            raise LineError(f"{what} is {len(raw)} characters; the limit is {limit}")
    check = linkable.provisioning.identifier_check
    if check is not None:
        try:
            check(raw)
        except ValidationError as error:
            raise LineError(f"{what} {raw[:100]!r} is not a valid {linkable.name} id") from error
    return raw, key


def _string(linkable: Linkable, name: str, model_field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise LineError(f"{name} must be a string")
    if "\x00" in value:
        raise LineError(f"{name} must not contain the NUL character (U+0000)")
    limit = linkable.model._meta.get_field(model_field).max_length
    if limit and len(value) > limit:
        raise LineError(f"{name} is {len(value)} characters; the limit is {limit}")
    return value


def parse_line(number: int, text: str | bytes) -> Line:
    """One line, checked against its type's registry entry; `LineError` says what is wrong."""
    try:
        data = _parse_json(text)
    except (NotJSON, RuleViolation) as error:
        raise LineError(error.message) from error
    if not isinstance(data, dict):
        raise LineError('a line is a JSON object: {"type": ..., "id": ..., ...}')
    type_name = data.get("type")
    linkable = REGISTRY.get(type_name) if isinstance(type_name, str) else None
    if linkable is None:
        raise LineError(f"type must be one of {_type_names()}")
    if "id" not in data:
        raise LineError("id is missing")
    identifier, key = _identifier(linkable, data["id"], "id")
    spec = linkable.provisioning
    retired = data.get("retired", False)
    if not isinstance(retired, bool):
        raise LineError("retired must be true or false")
    if retired:
        extra = sorted(set(data) - {"type", "id", "retired"})
        if extra:
            raise LineError(f"a retiring line carries only type, id and retired; not {extra}")
        return Line(number, linkable, identifier, key, True, {}, None, None, None)
    allowed = {"type", "id", "retired", *(a.key for a in spec.attributes)}
    if spec.parent:
        allowed.add(spec.parent.key)
    if spec.members:
        allowed.add(MEMBERS_KEY)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise LineError(
            f"{linkable.name} lines carry {', '.join(sorted(allowed))}; not {', '.join(unknown)}"
        )
    values: dict[str, Any] = {}
    for attribute in spec.attributes:
        if attribute.key not in data:
            continue
        value = data[attribute.key]
        if attribute.kind is bool:
            if not isinstance(value, bool):
                raise LineError(f"{attribute.key} must be true or false")
        else:
            value = _string(linkable, attribute.key, attribute.field, value)
            if attribute.required and not value.strip():
                raise LineError(f"{attribute.key} must not be empty")
        values[attribute.field] = value
    parent = parent_identifier = None
    if spec.parent and spec.parent.key in data:
        parent_identifier, parent = _identifier(
            REGISTRY[spec.parent.linkable], data[spec.parent.key], spec.parent.key
        )
    members = None
    if spec.members and MEMBERS_KEY in data:
        members = _members(data[MEMBERS_KEY])
    return Line(
        number, linkable, identifier, key, False, values, parent, parent_identifier, members
    )


def _parse_json(text: str | bytes) -> Any:
    return parse_json(text, message="the line is not JSON: {reason}")


def _members(value: Any) -> tuple[str, ...]:
    users = REGISTRY["ACCOUNT_USER"]
    if not isinstance(value, list):
        raise LineError(f"{MEMBERS_KEY} must be a list of email addresses")
    emails = [_identifier(users, email, MEMBERS_KEY)[1] for email in value]
    return tuple(dict.fromkeys(emails))
