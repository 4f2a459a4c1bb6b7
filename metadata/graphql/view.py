"""The HTTP side of the GraphQL door: graphene-django's view, through its public methods.

`/v1/graphql/` is two views on one address (`graphql_door` picks):
- `GraphiQLPage`, for a browser's GET that asks for HTML: graphene's own GraphiQL view with the
  bundles of graphene-django-graphiql-static (`GraphiQLOfflineView`: its template and the
  matching subresource-integrity hashes, never a CDN) and a Content-Security-Policy that holds
  the browser to that. graphene's `dispatch` sets the CSRF cookie there, for the next point.
- `GraphQLAPIView`, for everything else. Callers authenticate by the `Authorization` header
  only (`context.principal_of`), which a cross-site page cannot set, so the route is exempt
  from CSRF. The door reads no session; still, a request that carries a session cookie and no
  such header (a browser signed in to the admin, e.g. in GraphiQL) is checked by Django's own
  `csrf_protect`, so a cookie never becomes a way in should anything come to read it.

What `GraphQLAPIView` changes, each by a public method of `GraphQLView`:
- `parse_body` and `get_graphql_params`: the envelope (and `variables` sent as text) is parsed
  strictly (`metadata.rules.parse_json`: no NaN, no lone surrogates, bounded nesting) and must
  be one `{query, variables, operationName}` object: batches are refused before any work;
- `execute_graphql_request`: the document comes from `documents` (parsed with the token cap,
  validated with `validation_rules`, cached by its text), not parsed and validated anew;
- `execution_context_class`: resolvers are all synchronous, results are not probed for
  awaitables;
- `format_error`: every error in Kraken's shape (`metadata.graphql.errors`);
- `dispatch`: see its docstring (graphene's sets a CSRF cookie on every answer).
graphene's debug middleware is off, even with DEBUG (settings `GRAPHENE["MIDDLEWARE"]`): it
wraps every database cursor.
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
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from graphene_django.views import GraphQLView, HttpError
from graphene_django_graphiql_static.views import GraphiQLOfflineView
from graphql import ExecutionContext, ExecutionResult, OperationType, execute, get_operation_ast

from metadata import rules
from metadata.consoles import set_console_csp
from metadata.errors import NotJSON, RuleViolation, Unavailable
from metadata.graphql.documents import DocumentCache
from metadata.graphql.errors import expand_batch_errors, format_error, unavailable
from metadata.graphql.limits import VALIDATION_RULES
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
MSG_NO_QUERY = "Must provide query string."
MSG_GET_NOT_QUERY = "Only queries may be sent with GET; send a {operation} with POST."
MSG_METHOD = "GraphQL only supports GET and POST requests."

# Set on the request when its result holds a database-unavailable error: answered with 503.
_UNAVAILABLE = "graphql_database_unavailable"


def _bad_request(message: str) -> HttpError:
    return HttpError(HttpResponseBadRequest(message), message)


def _strict_json(text: str | bytes, message: str) -> Any:
    try:
        return rules.parse_json(text, message=message)
    except (NotJSON, RuleViolation) as error:
        raise _bad_request(message) from error


class SynchronousExecutionContext(ExecutionContext):
    """Every resolver of this schema is synchronous: no result is an awaitable to wait for."""

    @staticmethod
    def is_awaitable(value: Any) -> bool:
        return False


class GraphQLAPIView(GraphQLView):
    """`POST /v1/graphql/` (and queries by GET): JSON in, JSON out."""

    execution_context_class = SynchronousExecutionContext
    validation_rules = VALIDATION_RULES
    documents = DocumentCache(schema.graphql_schema, validation_rules)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """graphene's `dispatch` for one request, without its `ensure_csrf_cookie`.

        graphene decorates its `dispatch` with `ensure_csrf_cookie`, which runs a CSRF check
        that refuses nothing, mints a masked token and sets a cookie on every answer: work no
        API client uses, and no public setting or method leaves it out. (This method and
        `execute_graphql_request` are kept because an A/B of `make bench` against graphene's
        own showed the gain: `docs/benchmark.md`, "graphene's own GraphQL view against ours".)
        What graphene's does between its decorator and GraphiQL is this: the method check,
        `parse_body`, `get_response`, and an `HttpError` answered with its status and
        `format_error`'s body. GraphiQL is `GraphiQLPage`'s; batches are
        refused by `parse_body`. A result the database could not serve is answered with 503
        and `Retry-After` (its errors are Kraken's `KT-CT-0503`), so clients, proxies and
        load balancers can retry without reading the body, as they do for REST.
        """
        try:
            if request.method not in ("GET", "POST"):
                raise HttpError(HttpResponseNotAllowed(["GET", "POST"], MSG_METHOD), MSG_METHOD)
            result, status_code = self.get_response(request, self.parse_body(request))
        except HttpError as error:
            response = error.response
            response["Content-Type"] = "application/json"
            response.content = self.json_encode(request, {"errors": [self.format_error(error)]})
            return response
        if getattr(request, _UNAVAILABLE, False):
            response = HttpResponse(result, status=503, content_type="application/json")
            response["Retry-After"] = str(Unavailable.retry_after_seconds)
            return response
        return HttpResponse(result, status=status_code, content_type="application/json")

    @staticmethod
    def format_error(error: Exception) -> dict[str, Any]:
        return format_error(error)

    def get_middleware(self, request: HttpRequest) -> list[Any] | None:
        """None rather than an empty list: graphql-core then wraps no resolver."""
        return self.middleware or None

    def parse_body(self, request: HttpRequest) -> Any:
        content_type = self.get_content_type(request)
        if content_type == "application/json":
            data = _strict_json(request.body, MSG_BODY_NOT_JSON)
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
        """graphene's, once `variables` sent as text (GET, forms) passed the strict parser:
        graphene's `json.loads` takes NaN and lone surrogates."""
        variables = request.GET.get("variables") or data.get("variables")
        if variables and isinstance(variables, str):
            _strict_json(variables, MSG_VARIABLES_NOT_JSON)
        return GraphQLView.get_graphql_params(request, data)

    def execute_graphql_request(
        self,
        request: HttpRequest,
        data: Any,
        query: Any,
        variables: Any,
        operation_name: Any,
        show_graphiql: bool = False,
    ) -> ExecutionResult:
        """Execute the request on the document `documents` holds for its text.

        graphene's parses and validates the text on every request (more than executing a
        small read costs, stack note 8), and no public hook hands it a document;
        so this runs graphql-core's `execute` on the cached one, with the view's context,
        middleware and execution context class, and answers a GET mutation with 405, as
        graphene's does. The envelope's types are checked first (400): JSON lets a client
        send a number where a text belongs. Afterwards, a refused batch becomes one error
        per refused item, and a result the database could not serve marks the request for
        `dispatch`'s 503.
        """
        if not query:
            raise _bad_request(MSG_NO_QUERY)
        if not isinstance(query, str):
            raise _bad_request(MSG_QUERY_NOT_STRING)
        if variables is not None and not isinstance(variables, dict):
            raise _bad_request(MSG_VARIABLES_NOT_OBJECT)
        if operation_name is not None and not isinstance(operation_name, str):
            raise _bad_request(MSG_OPERATION_NAME_NOT_STRING)

        prepared = self.documents.prepare(query)
        if prepared.errors or prepared.document is None:
            return ExecutionResult(data=None, errors=list(prepared.errors))
        operation = get_operation_ast(prepared.document, operation_name)
        if (
            request.method == "GET"
            and operation is not None
            and operation.operation != OperationType.QUERY
        ):
            message = MSG_GET_NOT_QUERY.format(operation=operation.operation.value)
            raise HttpError(HttpResponseNotAllowed(["POST"], message), message)

        try:
            result = execute(
                self.schema.graphql_schema,
                prepared.document,
                root_value=self.get_root_value(request),
                context_value=self.get_context(request),
                variable_values=variables,
                operation_name=operation_name,
                middleware=self.get_middleware(request),
                execution_context_class=self.execution_context_class,
            )
        except Exception as error:  # formatted (and logged) as an internal error
            return ExecutionResult(data=None, errors=[error])
        if not result.errors:
            return result
        if any(unavailable(error) for error in result.errors):
            setattr(request, _UNAVAILABLE, True)
        errors = expand_batch_errors(list(result.errors))
        return ExecutionResult(data=result.data, errors=errors, extensions=result.extensions)


class GraphiQLPage(GraphiQLOfflineView):
    """GraphiQL, from our static files, under the consoles' Content-Security-Policy."""

    graphiql = True

    def render_graphiql(self, request: HttpRequest, **data: Any) -> HttpResponse:
        return set_console_csp(super().render_graphiql(request, **data))


def needs_csrf_check(request: HttpRequest) -> bool:
    """Only a request that could ride on a browser's session cookie is checked."""
    return (
        "HTTP_AUTHORIZATION" not in request.META and settings.SESSION_COOKIE_NAME in request.COOKIES
    )


document_cache = GraphQLAPIView.documents  # the tests count and clear it
_api = GraphQLAPIView.as_view()
_api_for_cookie_sessions = csrf_protect(_api)
_graphiql = GraphiQLPage.as_view()


@csrf_exempt
def graphql_door(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """GraphiQL for a browser's page load; the API for the rest, CSRF-checked when a session
    cookie rides along without an `Authorization` header (see the module docstring)."""
    if request.method == "GET" and GraphiQLPage.can_display_graphiql(request, request.GET):
        return _graphiql(request, *args, **kwargs)
    if needs_csrf_check(request):
        return _api_for_cookie_sessions(request, *args, **kwargs)
    return _api(request, *args, **kwargs)
