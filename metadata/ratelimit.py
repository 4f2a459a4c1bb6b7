"""Per-caller rate limits on the shared cache (Redis when REDIS_URL is set).

A fixed window per caller: one atomic increment per request (the window's first request
creates the counter). Both doors ask the same question; when the cache cannot answer
(Redis down), the request is allowed, so an outage degrades throttling and never a
metadata read or write.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from metadata.errors import Throttled

HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
"""Where both doors show a caller's budget (contract section 12)."""

_PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


@dataclass(frozen=True)
class Rate:
    requests: int
    seconds: int

    @classmethod
    @functools.lru_cache(maxsize=32)
    def parse(cls, text: str) -> Rate:
        """`600/min`, `10/s`, `5000/hour`, DRF's notation."""
        count, _, period = text.partition("/")
        return cls(requests=int(count), seconds=_PERIODS[period.strip().lower()])


@dataclass(frozen=True)
class Decision:
    """Whether the work is allowed, and the caller's budget after it (None when the cache
    did not answer): `limit` per window, `remaining` in this one, `reset` seconds until the
    next window starts. A door shows the budget in `X-RateLimit-*` headers."""

    allowed: bool
    retry_after: int = 0
    limit: int | None = None
    remaining: int | None = None
    reset: int | None = None

    def headers(self) -> dict[str, str]:
        """The budget as `HEADERS`; none when the cache did not answer (nothing is known)."""
        if self.limit is None:
            return {}
        values = (self.limit, self.remaining, self.reset)
        return {name: str(value) for name, value in zip(HEADERS, values, strict=True)}


def check(scope: str, caller: str, rate: Rate | None = None, *, cost: int = 1) -> Decision:
    """Count `cost` units of work (a request, or a batch's items) of `caller` in `scope`;
    refuse past the rate, with seconds to wait. Refused work still counts: a caller that
    keeps sending past its budget stays refused until the window ends."""
    rate = rate or Rate.parse(settings.GATEWAY_THROTTLE_RATES[scope])
    now = time.time()
    window = int(now // rate.seconds)
    key = f"ratelimit:{scope}:{caller}:{window}"
    try:
        count = cache.incr(key, cost)
    except ValueError:  # the window's first request: no counter yet
        count = _start_window(key, rate, cost)
    if count is None:  # the cache did not answer: degrade to no throttling
        return Decision(allowed=True)
    reset = max(1, int((window + 1) * rate.seconds - now + 0.999))
    remaining = max(0, rate.requests - count)
    if count > rate.requests:
        return Decision(
            allowed=False, retry_after=reset, limit=rate.requests, remaining=0, reset=reset
        )
    return Decision(allowed=True, limit=rate.requests, remaining=remaining, reset=reset)


def _start_window(key: str, rate: Rate, cost: int = 1) -> int | None:
    if cache.add(key, cost, timeout=rate.seconds + 1):
        return cost
    try:  # another request of the window created it first
        return cache.incr(key, cost)
    except ValueError:  # and it expired since: a window of its own
        cache.add(key, cost, timeout=rate.seconds + 1)
        return cost


def enforce(scope: str, caller: str, *, cost: int = 1) -> Decision:
    """`check`, raising `Throttled` for the door to map (429 / THROTTLED)."""
    decision = check(scope, caller, cost=cost)
    if not decision.allowed:
        raise Throttled(decision.retry_after)
    return decision
