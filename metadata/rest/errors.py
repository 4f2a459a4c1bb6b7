"""The one place where errors become REST answers (contract section 5).

Every exception a REST view raises ends here: the core's domain errors (by their stable
`code`), DRF's protocol errors, Django's 404/403/oversized body, and anything unexpected.
The wire form is Monite's: `{"error": {"type", "message"}}`, plus FastAPI-style `detail` on
422. Messages come from the core or from this module; no Python or database text ever
reaches a client (an unexpected exception is logged and answered with a generic 500).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, HttpResponseBase, JsonResponse
from rest_framework import exceptions as drf
from rest_framework import status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from metadata import errors
from metadata.rest.authentication import WWW_AUTHENTICATE
from metadata.rules import MAX_BODY_BYTES

logger = logging.getLogger("metadata.rest")

STATUS_OF_DOMAIN_ERROR: Mapping[type[errors.GatewayError], int] = {
    # Most specific first: the first class an error is an instance of decides.
    errors.NotAuthenticated: status.HTTP_401_UNAUTHORIZED,  # InvalidToken, ExpiredToken too
    errors.InvalidCredentials: status.HTTP_401_UNAUTHORIZED,
    errors.NotFound: status.HTTP_404_NOT_FOUND,
    errors.KeyNotFound: status.HTTP_404_NOT_FOUND,
    errors.PermissionDenied: status.HTTP_403_FORBIDDEN,
    errors.RuleViolation: status.HTTP_422_UNPROCESSABLE_ENTITY,
    errors.BatchRefused: status.HTTP_422_UNPROCESSABLE_ENTITY,
    errors.InvalidBatch: status.HTTP_422_UNPROCESSABLE_ENTITY,
    errors.BodyTooLarge: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    errors.InvalidLookup: status.HTTP_422_UNPROCESSABLE_ENTITY,
    errors.TooManyLines: status.HTTP_422_UNPROCESSABLE_ENTITY,
    errors.BodyTooLarge: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    errors.Throttled: status.HTTP_429_TOO_MANY_REQUESTS,
    errors.NotJSON: status.HTTP_400_BAD_REQUEST,
    errors.KeyExists: status.HTTP_409_CONFLICT,
    errors.PreconditionFailed: status.HTTP_412_PRECONDITION_FAILED,
    errors.Unavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
}

# DRF's own errors, by class, as (status, type); their messages are DRF's fixed texts.
DRF_ERROR_TYPES: Mapping[type[drf.APIException], str] = {
    drf.NotAuthenticated: errors.NotAuthenticated.code,
    drf.AuthenticationFailed: errors.InvalidToken.code,
    drf.PermissionDenied: errors.PermissionDenied.code,
    drf.NotFound: errors.NotFound.code,
    drf.MethodNotAllowed: "method_not_allowed",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.NotAcceptable: "not_acceptable",
    drf.ParseError: errors.NotJSON.code,
    drf.Throttled: "throttled",
    drf.ValidationError: "invalid_request",
}

SERVER_ERROR_TYPE = "server_error"
MSG_SERVER_ERROR = "The server could not complete the request; it has been logged."
MSG_UNSUPPORTED_MEDIA_TYPE = "Send the body as JSON, with 'Content-Type: application/json'."
MSG_INVALID_REQUEST = "The request body is not valid"

# DRF's validation codes in Monite's (pydantic's) vocabulary; others pass through.
_VALIDATION_TYPES = {
    "required": "value_error.missing",
    "null": "type_error.none.not_allowed",
    "invalid_choice": "type_error.enum",
    "blank": "value_error.any_str.min_length",
    "max_length": "value_error.any_str.max_length",
    "invalid": "type_error",
}
BODY = "body"
"""Where 422 locations start: the body, unless the view reads its query (`validation_root`)."""


def error_body(error_type: str, message: str) -> dict[str, Any]:
    return {"error": {"type": error_type, "message": message}}


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> HttpResponseBase:
    """DRF's `EXCEPTION_HANDLER`: an answer for every exception, never None.

    Returning None would let DRF re-raise into Django's HTML 500 page, so the unexpected
    case is answered here too.
    """
    set_rollback()
    root = getattr(context.get("view"), "validation_root", BODY)
    if isinstance(exc, errors.GatewayError):
        return domain_error_response(exc, root)
    if isinstance(exc, drf.APIException):
        return drf_error_response(exc, root, context.get("view"))
    if isinstance(exc, Http404):
        return domain_error_response(errors.NotFound())
    if isinstance(exc, DjangoPermissionDenied):
        return domain_error_response(errors.PermissionDenied())
    if isinstance(exc, RequestDataTooBig):
        return body_too_large(errors.BodyTooLarge(MAX_BODY_BYTES))
    if isinstance(exc, OperationalError | InterfaceError):
        # The database is down, restarting or dropped the connection: the client may retry.
        logger.warning("Database unavailable: %s", type(exc).__name__)
        return domain_error_response(errors.Unavailable())
    view = context.get("view")
    logger.error(
        "Unexpected error in %s", type(view).__name__ if view else "a REST view", exc_info=exc
    )
    return Response(
        error_body(SERVER_ERROR_TYPE, MSG_SERVER_ERROR),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def body_too_large(error: errors.BodyTooLarge) -> HttpResponse:
    """413 for a body refused before any view ran (`BodySizeLimitMiddleware`), so without
    DRF's response machinery."""
    return JsonResponse(error_body(error.code, error.message), status=413)


def status_of(exc: errors.GatewayError) -> int:
    for error_class, code in STATUS_OF_DOMAIN_ERROR.items():
        if isinstance(exc, error_class):
            return code
    return status.HTTP_400_BAD_REQUEST


def domain_error_response(exc: errors.GatewayError, root: str = BODY) -> Response:
    code = status_of(exc)
    body = error_body(exc.code, exc.message)
    if isinstance(exc, errors.BatchRefused):
        body["detail"] = [item_detail(root, refusal) for refusal in exc.refusals]
    elif isinstance(exc, errors.RuleViolation):
        body["detail"] = [
            {"loc": [root, *violation.loc], "msg": violation.msg, "type": violation.type}
            for violation in exc.violations
        ]
    elif code == status.HTTP_422_UNPROCESSABLE_ENTITY:
        body["detail"] = [{"loc": [root], "msg": exc.message, "type": f"value_error.{exc.code}"}]
    response = _response(body, code)
    if isinstance(exc, errors.Throttled | errors.Unavailable):
        response["Retry-After"] = str(exc.retry_after)
    return response


# Where in a batch item each cause points, and its `type` (rule violations carry their own).
_ITEM_FIELD_OF_CODE = {
    errors.NotFound.code: "id",
    errors.PermissionDenied.code: "id",
    errors.PreconditionFailed.code: "if_match",
}


def item_detail(root: str, refusal: errors.ItemRefusal) -> dict[str, Any]:
    """One refused batch item as one `detail` entry, at `[root, "data", index, ...]`."""
    loc: list[str | int] = [root, "data", refusal.index]
    error = refusal.error
    if isinstance(error, errors.RuleViolation) and error.violations:
        first = error.violations[0]
        return {"loc": [*loc, *first.loc], "msg": error.message, "type": first.type}
    field = _ITEM_FIELD_OF_CODE.get(error.code)
    return {
        "loc": [*loc, field] if field else loc,
        "msg": error.message,
        "type": f"value_error.{error.code}",
    }


def drf_error_response(exc: drf.APIException, root: str = BODY, view: Any = None) -> Response:
    error_type = next(
        (name for cls, name in DRF_ERROR_TYPES.items() if isinstance(exc, cls)),
        str(exc.default_code),
    )
    if isinstance(exc, drf.ValidationError):
        detail = list(validation_details(exc.detail, (root,)))
        message = "; ".join(f"{_where(d['loc'])}: {d['msg']}" for d in detail)
        body = error_body(error_type, f"{MSG_INVALID_REQUEST}: {message}")
        body["detail"] = detail
        return _response(body, status.HTTP_422_UNPROCESSABLE_ENTITY)
    if isinstance(exc, drf.UnsupportedMediaType):
        message = getattr(view, "unsupported_media_type_message", MSG_UNSUPPORTED_MEDIA_TYPE)
    elif isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        message = errors.NotAuthenticated.default_message
    else:
        message = str(exc.detail) if isinstance(exc.detail, str) else str(exc.default_detail)
    response = _response(error_body(error_type, message), exc.status_code)
    if isinstance(exc, drf.Throttled) and exc.wait is not None:
        response["Retry-After"] = str(int(exc.wait))
    return response


def validation_details(
    detail: Any, loc: tuple[str | int, ...] = (BODY,)
) -> Iterator[dict[str, Any]]:
    """A serializer's nested errors as Monite's flat `[{"loc", "msg", "type"}]`."""
    if isinstance(detail, Mapping):
        for field, nested in detail.items():
            whole = field in (api_settings.NON_FIELD_ERRORS_KEY, BODY)
            inner = loc if whole else (*loc, field)
            yield from validation_details(nested, inner)
    elif isinstance(detail, list):
        for item in detail:
            yield from validation_details(item, loc)
    else:
        code = str(getattr(detail, "code", "invalid"))
        yield {"loc": list(loc), "msg": str(detail), "type": _VALIDATION_TYPES.get(code, code)}


def _where(loc: list[str | int]) -> str:
    """`["body", "metadata"]` as `metadata`; the whole body (or query) by its root's name."""
    return ".".join(str(part) for part in loc[1:]) or str(loc[0])


def _response(body: dict[str, Any], code: int) -> Response:
    response = Response(body, status=code)
    if code == status.HTTP_401_UNAUTHORIZED:
        response["WWW-Authenticate"] = WWW_AUTHENTICATE
    return response
