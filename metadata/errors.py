"""Domain errors with stable codes.

The core raises these; each door maps them to its wire format in exactly one place
(`metadata.rest.errors`, `metadata.graphql.errors`). Messages are written for the person
calling the API and never carry Python or database text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    """One broken rule: where (a path into the document), what, and a machine-readable type."""

    loc: tuple[str | int, ...]
    msg: str
    type: str


class GatewayError(Exception):
    code: str = "error"
    default_message: str = "The request could not be completed."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class NotAuthenticated(GatewayError):
    """No credentials were sent."""

    code = "not_authenticated"
    default_message = "Authentication credentials were not provided."


class InvalidToken(NotAuthenticated):
    code = "invalid_token"
    default_message = "The token is invalid."


class ExpiredToken(InvalidToken):
    code = "expired_token"
    default_message = "The token has expired; obtain a new one."


class InvalidCredentials(GatewayError):
    code = "invalid_credentials"
    default_message = "The credentials are not valid."


class NotFound(GatewayError):
    """The object does not exist, or the caller may not read it: the same answer for both."""

    code = "not_found"
    default_message = "No such object, or you do not have access to it."


class PermissionDenied(GatewayError):
    code = "permission_denied"
    default_message = "You may read this object's metadata but not change it."


class RuleViolation(GatewayError):
    """The document (as it would be after the change) breaks a rule of `metadata.rules`."""

    code = "invalid_metadata"

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = tuple(violations)
        super().__init__("; ".join(v.msg for v in self.violations))


class NotJSON(GatewayError):
    """Text that should be JSON is not (NaN and Infinity included)."""

    code = "not_json"
    default_message = "The body is not valid JSON."


class KeyExists(GatewayError):
    code = "key_exists"
    default_message = "The key already exists."


class KeyNotFound(GatewayError):
    code = "key_not_found"
    default_message = "The object has no metadata under this key."


class PreconditionFailed(GatewayError):
    """A conditional write whose expectation (If-Match, expected value) no longer holds."""

    code = "precondition_failed"
    default_message = "The metadata has changed since you read it; read it again and retry."


class InvalidLookup(GatewayError):
    """A lookup's parameters are out of range (page size, cursor)."""

    code = "invalid_lookup"
    default_message = "The lookup parameters are not valid."


class BodyTooLarge(GatewayError):
    """A request body over its route's limit, refused before it is parsed."""

    code = "payload_too_large"

    def __init__(self, limit: int, size: int | None = None) -> None:
        self.limit = limit
        if size is None:
            message = f"The request body is over the limit of {limit} bytes."
        else:
            message = f"The request body is {size} bytes; the limit is {limit}."
        super().__init__(message)


class Throttled(GatewayError):
    """Too many requests from one caller; `retry_after` seconds until the next window."""

    code = "throttled"
    default_message = "Too many requests; retry after {seconds} seconds."

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(self.default_message.format(seconds=retry_after))


class TooManyLines(GatewayError):
    """A provisioning request with more lines than one request may carry, or none."""

    code = "invalid_lines"
    default_message = "The request carries too many lines."


class Unavailable(GatewayError):
    """The database cannot be reached, or refused the work for now (restarting, overloaded).

    Each door turns Django's connection-level database errors into this one, so clients get
    a clean 503 telling them when to try again instead of a 500. `retry_after` is a hint, in
    seconds; a restarted database is normally back well within it.
    """

    code = "service_unavailable"
    default_message = (
        "The service cannot reach its database right now; retry after {seconds} seconds."
    )
    retry_after_seconds = 5

    def __init__(self) -> None:
        self.retry_after = self.retry_after_seconds
        super().__init__(self.default_message.format(seconds=self.retry_after))


class InvalidBatch(GatewayError):
    """A batch call whose shape is out of range (no items, or more than the limit)."""

    code = "invalid_batch"
    default_message = "The batch is not valid."


@dataclass(frozen=True)
class ItemRefusal:
    """Why one item of a batch was refused: the error a single call would have raised."""

    index: int
    error: GatewayError


class BatchRefused(GatewayError):
    """A batch with refused items: nothing was written. Every refused item is listed, each
    with the error its single call would have had (`NotFound` for a missing and an
    unreadable object alike, `PermissionDenied`, `RuleViolation`, `PreconditionFailed`)."""

    code = "batch_refused"

    def __init__(self, refusals: Sequence[ItemRefusal]) -> None:
        self.refusals = tuple(sorted(refusals, key=lambda refusal: refusal.index))
        count = len(self.refusals)
        items = "item was" if count == 1 else "items were"
        super().__init__(f"{count} {items} refused; nothing was written.")
