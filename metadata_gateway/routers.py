"""Optional read replica: reads go to `replica` unless they are part of a write transaction.

Active only when DATABASE_REPLICA_URL is set. A read inside `transaction.atomic()` on the
primary (every service write) stays on the primary, so a write never decides on stale rows.
"""

from __future__ import annotations

from typing import Any

from django.db import connections

PRIMARY = "default"
REPLICA = "replica"


class PrimaryReplicaRouter:
    def db_for_read(self, model: type, **hints: Any) -> str:
        if REPLICA not in connections.settings or connections[PRIMARY].in_atomic_block:
            return PRIMARY
        return REPLICA

    def db_for_write(self, model: type, **hints: Any) -> str:
        return PRIMARY

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == PRIMARY
