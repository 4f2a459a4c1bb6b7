"""DRF's throttle hooks over the core's rate limit (`metadata.ratelimit`), shared with GraphQL.

The budgets are the core's (`GATEWAY_THROTTLE_RATES`) and so are the counters: a caller
has one budget across both doors. A refusal is the core's `Throttled`, which
`metadata.rest.errors` answers with 429 and `Retry-After`.
"""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import BaseThrottle

from metadata import ratelimit
from metadata.addresses import client_address
from metadata.principals import Principal

USER_SCOPE = "user"
ANONYMOUS_SCOPE = "anonymous"


class PrincipalRateThrottle(BaseThrottle):
    """Per authenticated caller (their user id); runs after authentication, like DRF's."""

    def allow_request(self, request: Any, view: Any) -> bool:
        user = request.user
        if isinstance(user, Principal):
            ratelimit.enforce(USER_SCOPE, str(user.user_id))
        return True


class AddressRateThrottle(BaseThrottle):
    """Per client address (`metadata.addresses`: behind a trusted proxy, the client's), for
    requests that carry no token (the token endpoint, whose password hashing is what a flood
    would spend)."""

    def allow_request(self, request: Any, view: Any) -> bool:
        ratelimit.enforce(ANONYMOUS_SCOPE, client_address(request.META))
        return True
