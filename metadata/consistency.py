"""Which reads must see the primary when a replica serves the others.

A replica lags the primary. Two kinds of read may not see that lag: a read by a caller who
has just written (they would not find their own write: read-your-writes), and a lookup by
metadata, which the contract makes strongly consistent (section 9: a write is found by the
next lookup). The database router (`metadata_gateway.routers`) asks `needs_primary()`.

A caller who writes is pinned to the primary for `REPLICA_PIN_SECONDS` by a marker in the
shared cache, keyed by the caller's user id, so the pin holds on every worker and host that
shares the cache (Redis in production). Nothing here runs unless a replica is configured.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.cache import cache

REPLICA = "replica"

_caller: ContextVar[str | None] = ContextVar("metadata_caller", default=None)
_strong: ContextVar[bool] = ContextVar("metadata_strong_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def _pin_key(user_id: uuid.UUID | str) -> str:
    return f"metadata:primary-pin:{user_id}"


def set_caller(user_id: uuid.UUID | str) -> None:
    """The request's caller, once a token has named them."""
    _caller.set(str(user_id))


def forget_caller(**kwargs: Any) -> None:
    """At the start of every request (`request_started`): threads serve many requests."""
    _caller.set(None)
    _strong.set(False)


def wrote(user_id: uuid.UUID | str | None) -> None:
    """Pin the writer's next reads to the primary; called once the write has committed."""
    if user_id is None or not replica_configured():
        return
    cache.set(_pin_key(user_id), True, timeout=settings.REPLICA_PIN_SECONDS)


@contextlib.contextmanager
def primary_reads() -> Iterator[None]:
    """Reads inside this block go to the primary (a lookup's strong consistency)."""
    token = _strong.set(True)
    try:
        yield
    finally:
        _strong.reset(token)


def needs_primary() -> bool:
    if _strong.get():
        return True
    caller = _caller.get()
    return caller is not None and cache.get(_pin_key(caller)) is not None
