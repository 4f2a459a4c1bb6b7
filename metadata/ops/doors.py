"""Which door a request came through, for logs and metrics (never for decisions)."""

from __future__ import annotations

DOOR_PREFIXES = (
    ("/v1/graphql", "graphql"),
    ("/v1/", "rest"),
    ("/admin/", "admin"),
)


def door_of(path: str) -> str:
    for prefix, door in DOOR_PREFIXES:
        if path.startswith(prefix):
            return door
    return "ops"
