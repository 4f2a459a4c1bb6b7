"""Optional read replica: reads go to `replica` unless they must see the primary.

Active only when DATABASE_REPLICA_URL is set. A read goes to the primary when it is part of a
write transaction (every service write, so a write never decides on stale rows), when
`metadata.consistency` says it must (a caller who has just written, a lookup), or when the
replica cannot be reached: then this process leaves the replica alone for
`REPLICA_RETRY_SECONDS`, and the request that found it down is already served by the primary.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections

from metadata import consistency

PRIMARY = "default"
REPLICA = consistency.REPLICA


class PrimaryReplicaRouter:
    def __init__(self) -> None:
        self.replica_down_until = 0.0

    def db_for_read(self, model: type, **hints: Any) -> str:
        if REPLICA not in connections.settings or connections[PRIMARY].in_atomic_block:
            return PRIMARY
        if consistency.needs_primary() or not self.replica_usable():
            return PRIMARY
        return REPLICA

    def replica_usable(self) -> bool:
        """Whether the replica answers; checked once per request, as Django checks any
        connection's health (`CONN_HEALTH_CHECKS`) before its first query in a request."""
        if time.monotonic() < self.replica_down_until:
            return False
        replica = connections[REPLICA]
        try:
            replica.close_if_health_check_failed()
            replica.ensure_connection()
        except DatabaseError:
            replica.close()
            self.replica_down_until = time.monotonic() + settings.REPLICA_RETRY_SECONDS
            return False
        return True

    def db_for_write(self, model: type, **hints: Any) -> str:
        return PRIMARY

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == PRIMARY
