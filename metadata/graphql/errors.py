"""The one place where errors become Kraken's wire format (contract section 6).

Core errors (`metadata.errors`, by their stable `.code`) become
`{message, locations, path, extensions: {errorType, errorCode, errorDescription,
validationErrors?}}`. Errors graphql-core raises itself (syntax, validation, variable
coercion, limits) pass through as graphql-core words them. Anything else is a bug: it is
logged with its traceback and the client gets a generic message, never Python or database
text (stack note 5).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from graphene_django.views import HttpError
from graphql import GraphQLError

from metadata import errors
from metadata.errors import GatewayError, Violation

logger = logging.getLogger("metadata.graphql")

AUTHORIZATION = "AUTHORIZATION"
VALIDATION = "VALIDATION"
NOT_FOUND = "NOT_FOUND"
THROTTLED = "THROTTLED"
INTERNAL = "INTERNAL"
UNAVAILABLE = "SERVICE_UNAVAILABLE"

# Every mutation takes its arguments as one `input`; validation errors point into it.
INPUT = "input"
BATCH_INDEX = "index"

MSG_INTERNAL = "An unexpected error occurred. It has been logged; please try again later."


@dataclass(frozen=True)
class KrakenCode:
    error_type: str
    error_code: str
    description: str


# Keyed by the core's stable error codes. A code missing here falls back to its parent
# class's code (a new subclass of NotFound still answers KT-CT-4123).
CODES: dict[str, KrakenCode] = {
    errors.NotAuthenticated.code: KrakenCode(
        AUTHORIZATION, "KT-CT-1112", "'Authorization' field not found in the header."
    ),
    errors.InvalidToken.code: KrakenCode(AUTHORIZATION, "KT-CT-1111", "Unauthorized."),
    errors.ExpiredToken.code: KrakenCode(AUTHORIZATION, "KT-CT-1124", "JWT has expired."),
    errors.NotFound.code: KrakenCode(AUTHORIZATION, "KT-CT-4123", "Unauthorized."),
    errors.PermissionDenied.code: KrakenCode(AUTHORIZATION, "KT-CT-4124", "Unauthorized."),
    errors.RuleViolation.code: KrakenCode(VALIDATION, "KT-CT-8411", "Invalid data."),
    errors.NotJSON.code: KrakenCode(VALIDATION, "KT-CT-8411", "Invalid data."),
    errors.PreconditionFailed.code: KrakenCode(
        VALIDATION, "KT-CT-8412", "The value has changed since it was read."
    ),
    errors.InvalidLookup.code: KrakenCode(
        VALIDATION, "KT-CT-8413", "The lookup's page size or cursor is not valid."
    ),
    errors.KeyExists.code: KrakenCode(VALIDATION, "KT-CT-8414", "The key already exists."),
    errors.KeyNotFound.code: KrakenCode(NOT_FOUND, "KT-CT-8416", "No metadata for this key."),
    errors.InvalidCredentials.code: KrakenCode(
        VALIDATION, "KT-CT-1138", "Please make sure the email address and password are correct."
    ),
    errors.Throttled.code: KrakenCode(THROTTLED, "KT-CT-1199", "Too many requests."),
    errors.BodyTooLarge.code: KrakenCode(
        VALIDATION, "KT-CT-8417", "The request body is too large."
    ),
    errors.Unavailable.code: KrakenCode(
        UNAVAILABLE, "KT-CT-0503", "The service is temporarily unavailable."
    ),
    errors.InvalidBatch.code: KrakenCode(VALIDATION, "KT-CT-8418", "A batch names 1 to 100 items."),
    # Answered as one error per refused item (`expand_batch_errors`), each its own code.
    errors.BatchRefused.code: KrakenCode(
        VALIDATION, "KT-CT-8419", "The batch was refused; nothing was written."
    ),
}
INTERNAL_CODE = KrakenCode(INTERNAL, "KT-CT-0000", "Internal error.")

# Where, in the mutation's input, each kind of validation error points.
_INPUT_FIELD_OF_CODE = {
    errors.NotJSON.code: "value",
    errors.KeyExists.code: "key",
    errors.PreconditionFailed.code: "compareDigest",
}


def kraken_code(error: GatewayError) -> KrakenCode:
    for cls in type(error).__mro__:
        code = getattr(cls, "code", None)
        if code in CODES:
            return CODES[code]
    return INTERNAL_CODE


def _input_path(violation: Violation) -> list[str | int]:
    """Where a broken rule points, in the field's arguments.

    A write's violations are located in the document (`("metadata", key)`): key rules point
    at `input.key`; value, depth and size rules at `input.value`. A lookup's are located in
    its arguments (`("key",)`, `("value", index)`): they point at `key` or `values[index]`.
    """
    head, *rest = violation.loc or ("metadata",)
    if head == "key":
        return ["key"]
    if head == "value":
        return ["values", *rest]
    if violation.type.startswith("value_error.key") or violation.type == "type_error.str":
        return [INPUT, "key"]
    return [INPUT, "value"]


def validation_errors(error: GatewayError, index: int | None = None) -> list[dict[str, Any]]:
    """Each broken rule and where it points; `index` is a batch item's, inserted after
    `input` (`["input", 3, "value"]`)."""
    if isinstance(error, errors.RuleViolation):
        found = [{"message": v.msg, "inputPath": _input_path(v)} for v in error.violations]
    elif isinstance(error, errors.InvalidLookup | errors.BodyTooLarge | errors.InvalidBatch):
        found = [{"message": error.message, "inputPath": []}]
    else:
        field = _INPUT_FIELD_OF_CODE.get(error.code)
        found = [{"message": error.message, "inputPath": [INPUT, field] if field else [INPUT]}]
    if index is not None:
        for entry in found:
            head, *rest = entry["inputPath"] or [INPUT]
            entry["inputPath"] = [head, index, *rest] if head == INPUT else [INPUT, index]
    return found


def _located(error: GraphQLError, message: str, extensions: dict[str, Any]) -> dict[str, Any]:
    formatted: dict[str, Any] = {"message": message}
    if error.locations is not None:
        formatted["locations"] = [location.formatted for location in error.locations]
    if error.path is not None:
        formatted["path"] = error.path
    formatted["extensions"] = extensions
    return formatted


def gateway_extensions(error: GatewayError, index: int | None = None) -> dict[str, Any]:
    code = kraken_code(error)
    extensions: dict[str, Any] = {
        "errorType": code.error_type,
        "errorCode": code.error_code,
        "errorDescription": code.description,
    }
    if code.error_type == VALIDATION:
        extensions["validationErrors"] = validation_errors(error, index)
    if index is not None:
        extensions["index"] = index
    return extensions


def _database_down(error: BaseException | None) -> bool:
    return isinstance(error, OperationalError | InterfaceError)


def unavailable(error: Exception) -> bool:
    """Whether this error of a result means the database could not be reached.

    The view answers such a result with HTTP 503 and `Retry-After`, as the REST door does:
    a client, proxy or load balancer can tell "try again shortly" from a bad request.
    """
    if isinstance(error, GraphQLError):
        return _database_down(error.original_error)
    return _database_down(error)


def expand_batch_errors(found: list[Exception]) -> list[Exception]:
    """A refused batch as one error per refused item (Kraken's form: each its own code),
    at the batch field's path, with the item's position in `extensions.index`."""
    expanded: list[Exception] = []
    for error in found:
        original = getattr(error, "original_error", None)
        if not isinstance(error, GraphQLError) or not isinstance(original, errors.BatchRefused):
            expanded.append(error)
            continue
        expanded.extend(
            GraphQLError(
                refusal.error.message,
                nodes=error.nodes,
                path=error.path,
                original_error=refusal.error,
                extensions={BATCH_INDEX: refusal.index},
            )
            for refusal in original.refusals
        )
    return expanded


def format_error(error: Exception) -> dict[str, Any]:
    """One error of a GraphQL response, in Kraken's shape where the error is ours."""
    if isinstance(error, HttpError):
        # Transport errors raised by the view with messages it wrote (bad body, GET mutation).
        return {"message": error.message}
    if unavailable(error):
        logger.warning("Database unavailable during a GraphQL request")
        down = errors.Unavailable()
        extensions = gateway_extensions(down)
        if isinstance(error, GraphQLError):
            return _located(error, down.message, extensions)
        return {"message": down.message, "extensions": extensions}
    if not isinstance(error, GraphQLError):
        logger.error("GraphQL request failed", exc_info=error)
        return {"message": MSG_INTERNAL, "extensions": _internal_extensions()}
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return error.formatted
    if isinstance(original, GatewayError):
        index = (error.extensions or {}).get(BATCH_INDEX)
        return _located(error, original.message, gateway_extensions(original, index))
    logger.error("GraphQL resolver failed at %s", error.path, exc_info=original)
    return _located(error, MSG_INTERNAL, _internal_extensions())


def body_too_large(error: errors.BodyTooLarge) -> HttpResponse:
    """413 for a body refused before the view read it (`BodySizeLimitMiddleware`): a
    GraphQL response with no data and one error, so GraphQL clients can read why."""
    formatted = {"message": error.message, "extensions": gateway_extensions(error)}
    return JsonResponse({"data": None, "errors": [formatted]}, status=413)


def _internal_extensions() -> dict[str, Any]:
    return {
        "errorType": INTERNAL_CODE.error_type,
        "errorCode": INTERNAL_CODE.error_code,
        "errorDescription": INTERNAL_CODE.description,
    }
