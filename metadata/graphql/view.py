"""The HTTP side of the GraphQL door: graphene-django's view, hardened.

What changes from `GraphQLView`:
- documents are parsed with a token cap, validated with the standard rules plus the
  request limits, and cached by query text (`documents`);
- the request envelope (and `variables` sent as text) is parsed strictly
  (`metadata.rules.parse_json`: no NaN, no lone surrogates, bounded nesting) and must be one
  `{query, variables, operationName}` object: batches are refused before any work;
- every error is formatted by `metadata.graphql.errors.format_error`;
- CSRF is enforced only for cookie-session requests (stack note 2): header-authenticated
  and cookie-less clients are exempt, as a token in a header cannot be forged cross-site;
- graphene's debug middleware is off, even with DEBUG (it wraps every database cursor);
- only the GraphiQL page sets the CSRF cookie (graphene sets it on every answer, which costs
  a fresh token per API call that no API client reads);
- resolvers are all synchronous, so results are not inspected for awaitables;
- GraphiQL's page loads its bundles from our static files (graphene-django-graphiql-static's
  `GraphiQLOfflineView`: its template and the matching subresource-integrity hashes), never
  from a CDN, and the page's Content-Security-Policy holds the browser to that.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
)
from django.middleware.csrf import CsrfViewMiddleware
from graphene_django.views import GraphQLView, HttpError
from graphene_django_graphiql_static.views import GraphiQLOfflineView
from graphql import ExecutionResult, OperationType, execute, get_operation_ast

from metadata import rules
from metadata.consoles import set_console_csp
from metadata.errors import NotJSON, RuleViolation, Unavailable
from metadata.graphql.documents import DocumentCache
from metadata.graphql.errors import expand_batch_errors, format_error, unavailable
from metadata.graphql.schema import schema

MSG_NOT_AN_OBJECT = (
    "The body must be one JSON object {query, variables, operationName}; batches are not supported."
)
MSG_BODY_NOT_JSON = "The body is not valid JSON."
MSG_BODY_NOT_UTF8 = "The body is not UTF-8."
MSG_VARIABLES_NOT_JSON = "Variables are invalid JSON."
MSG_QUERY_NOT_STRING = "query must be a string."
MSG_VARIABLES_NOT_OBJECT = "variables must be a JSON object."
MSG_OPERATION_NAME_NOT_STRING = "operationName must be a string."
MSG_GET_NOT_QUERY = "Only queries may be sent with GET; send a {operation} with POST."

# Set on the request when its result holds a database-unavailable error (see `get_response`).
_UNAVAILABLE = "graphql_database_unavailable"

document_cache = DocumentCache(schema.graphql_schema)


def _bad_request(message: str) -> HttpError:
    return HttpError(HttpResponseBadRequest(message), message)


# graphene's `dispatch` without its `ensure_csrf_cookie` decorator (`method_decorator` keeps
# the undecorated method as `__wrapped__`).
_dispatch_without_csrf_cookie = GraphQLView.dispatch.__wrapped__


def _never_awaitable(value: Any) -> bool:
    return False


def needs_csrf_check(request: HttpRequest) -> bool:
    """Only a request that could ride on a browser's session cookie is checked."""
    return (
        "HTTP_AUTHORIZATION" not in request.META and settings.SESSION_COOKIE_NAME in request.COOKIES
    )


def _no_response(request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
    raise AssertionError("CSRF check only")


class MetadataGraphQLView(GraphiQLOfflineView):
    """`POST /v1/graphql/`; GraphiQL on GET from a browser."""

    graphiql = True

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("schema", schema)
        kwargs.setdefault("middleware", [])
        super().__init__(**kwargs)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if needs_csrf_check(request):
            rejected = CsrfViewMiddleware(_no_response).process_view(request, None, (), {})
            if rejected is not None:
                return rejected
        if request.method == "GET" and self.request_wants_html(request):
            page = super().dispatch(request, *args, **kwargs)  # GraphiQL posts with the cookie
            return set_console_csp(page)
        response = _dispatch_without_csrf_cookie(self, request, *args, **kwargs)
        if getattr(request, _UNAVAILABLE, False):
            response["Retry-After"] = str(Unavailable.retry_after_seconds)
        return response

    def get_response(
        self, request: HttpRequest, data: Any, show_graphiql: bool = False
    ) -> tuple[Any, int]:
        """graphene's, but a result the database could not serve is answered with 503.

        The errors inside are Kraken-shaped (`KT-CT-0503`) like every other; the status lets
        clients, proxies and load balancers retry without reading the body.
        """
        result, status_code = super().get_response(request, data, show_graphiql)
        if getattr(request, _UNAVAILABLE, False):
            status_code = 503
        return result, status_code

    @staticmethod
    def format_error(error: Exception) -> dict[str, Any]:
        return format_error(error)

    def parse_body(self, request: HttpRequest) -> Any:
        content_type = self.get_content_type(request)
        if content_type == "application/json":
            try:
                data = rules.parse_json(request.body, message=MSG_BODY_NOT_JSON)
            except (NotJSON, RuleViolation) as error:
                raise _bad_request(MSG_BODY_NOT_JSON) from error
            if not isinstance(data, dict):
                raise _bad_request(MSG_NOT_AN_OBJECT)
            return data
        if content_type == "application/graphql":
            try:
                return {"query": request.body.decode("utf-8")}
            except UnicodeDecodeError as error:
                raise _bad_request(MSG_BODY_NOT_UTF8) from error
        return super().parse_body(request)

    @staticmethod
    def get_graphql_params(request: HttpRequest, data: Any) -> tuple[Any, Any, Any, Any]:
        """graphene's, but `variables` sent as text (GET, forms) is parsed strictly too."""
        query = request.GET.get("query") or data.get("query")
        variables = request.GET.get("variables") or data.get("variables")
        operation_id = request.GET.get("id") or data.get("id")
        if variables and isinstance(variables, str):
            try:
                variables = rules.parse_json(variables, message=MSG_VARIABLES_NOT_JSON)
            except (NotJSON, RuleViolation) as error:
                raise _bad_request(MSG_VARIABLES_NOT_JSON) from error
        operation_name = request.GET.get("operationName") or data.get("operationName")
        if operation_name == "null":
            operation_name = None
        return query, variables, operation_name, operation_id

    def execute_graphql_request(
        self,
        request: HttpRequest,
        data: Any,
        query: Any,
        variables: Any,
        operation_name: Any,
        show_graphiql: bool = False,
    ) -> ExecutionResult | None:
        if not query:
            if show_graphiql:
                return None
            raise _bad_request("Must provide query string.")
        if not isinstance(query, str):
            raise _bad_request(MSG_QUERY_NOT_STRING)
        if variables is not None and not isinstance(variables, dict):
            raise _bad_request(MSG_VARIABLES_NOT_OBJECT)
        if operation_name is not None and not isinstance(operation_name, str):
            raise _bad_request(MSG_OPERATION_NAME_NOT_STRING)

        prepared = document_cache.prepare(query)
        if prepared.errors or prepared.document is None:
            return ExecutionResult(data=None, errors=list(prepared.errors))
        document = prepared.document

        operation = get_operation_ast(document, operation_name)
        if (
            request.method == "GET"
            and operation is not None
            and operation.operation != OperationType.QUERY
        ):
            if show_graphiql:
                return None
            message = MSG_GET_NOT_QUERY.format(operation=operation.operation.value)
            raise HttpError(HttpResponseNotAllowed(["POST"], message), message)

        try:
            result = execute(
                self.schema.graphql_schema,
                document,
                root_value=self.get_root_value(request),
                context_value=self.get_context(request),
                variable_values=variables,
                operation_name=operation_name,
                middleware=self.get_middleware(request) or None,  # none: no manager per field
                is_awaitable=_never_awaitable,
            )
        except Exception as error:  # formatted (and logged) as an internal error
            result = ExecutionResult(data=None, errors=[error])
        if any(unavailable(error) for error in result.errors or ()):
            setattr(request, _UNAVAILABLE, True)
        if result.errors:
            errors = expand_batch_errors(list(result.errors))
            return ExecutionResult(data=result.data, errors=errors, extensions=result.extensions)
        return result
