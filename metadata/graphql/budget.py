"""The caller's rate-limit budget on GraphQL answers, as on REST ones (contract section 12).

A partner's sync client paces itself by the `X-RateLimit-*` headers, whichever door it
uses: a batch of N pairs costs N on both. Resolvers count the work (`context.throttle`,
`context.charge`) and `remember` the caller's budget after it on the request; `show_budget`
puts it on the answer. An answer whose request counted nothing against a caller (a login,
a document refused before any field ran) carries no budget, as a REST answer does not.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseBase

from metadata.ratelimit import Decision

_BUDGET_ATTR = "metadata_graphql_budget"


def remember(request: HttpRequest, decision: Decision) -> None:
    """Keep the caller's budget after this work; the latest count is the one shown."""
    if decision.limit is not None:
        setattr(request, _BUDGET_ATTR, decision)


def show_budget(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """The remembered budget on the answer (a refused, THROTTLED one included)."""
    decision: Decision | None = getattr(request, _BUDGET_ATTR, None)
    if decision is not None:
        for name, value in decision.headers().items():
            response[name] = value
    return response


def with_budget(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A view whose answers carry the budget its request spent (for the URL conf)."""

    @functools.wraps(view)
    def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return show_budget(request, view(request, *args, **kwargs))

    return answer
