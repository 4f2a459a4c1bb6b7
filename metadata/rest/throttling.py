"""DRF's throttle hooks over the core's rate limit (`metadata.ratelimit`), shared with GraphQL.

The budgets are the core's (`GATEWAY_THROTTLE_RATES`) and so are the counters: a caller
has one budget across both doors. A refusal is the core's `Throttled`, which
`metadata.rest.errors` answers with 429 and `Retry-After`. The budget counts work, not
requests: a request costs one, and a batch of N items costs N (`charge` adds the rest once
the body is read). Every answer to an authenticated caller shows the budget left
(`X-RateLimit-Limit`, `-Remaining`, and `-Reset`: seconds until the window restarts).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseBase
from rest_framework.throttling import BaseThrottle

from metadata import ratelimit
from metadata.addresses import client_address
from metadata.errors import Throttled
from metadata.principals import Principal

USER_SCOPE = "user"
ANONYMOUS_SCOPE = "anonymous"
_DECISION_ATTR = "metadata_rate_limit"


def _count(request: Any, scope: str, caller: str, cost: int) -> None:
    decision = ratelimit.check(scope, caller, cost=cost)
    if decision.limit is not None:
        setattr(request, _DECISION_ATTR, decision)
    if not decision.allowed:
        raise Throttled(decision.retry_after)


def charge(request: Any, cost: int) -> None:
    """Count `cost` more units of the caller's budget (a batch's items beyond the one its
    request was counted as); `Throttled` when that is past the budget."""
    user = request.user
    if cost > 0 and isinstance(user, Principal):
        _count(request, USER_SCOPE, str(user.user_id), cost)


def show_budget(request: Any, response: HttpResponseBase) -> None:
    """The caller's budget after this request, on its answer (429 included)."""
    decision = getattr(request, _DECISION_ATTR, None)
    if decision is None:
        return
    for name, value in decision.headers().items():
        response[name] = value


class PrincipalRateThrottle(BaseThrottle):
    """Per authenticated caller (their user id); runs after authentication, like DRF's."""

    def allow_request(self, request: Any, view: Any) -> bool:
        user = request.user
        if isinstance(user, Principal):
            _count(request, USER_SCOPE, str(user.user_id), 1)
        return True


class AddressRateThrottle(BaseThrottle):
    """Per client address (`metadata.addresses`: behind a trusted proxy, the client's), for
    requests that carry no token (the token endpoint, whose password hashing is what a flood
    would spend)."""

    def allow_request(self, request: Any, view: Any) -> bool:
        ratelimit.enforce(ANONYMOUS_SCOPE, client_address(request.META))
        return True
