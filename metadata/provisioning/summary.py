"""What an import did: one outcome per line, counted, and the failures with their reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CREATED, UPDATED, RETIRED, UNCHANGED = "created", "updated", "retired", "unchanged"


@dataclass(frozen=True)
class Failure:
    line: int
    reason: str


@dataclass
class Summary:
    created: int = 0
    updated: int = 0
    retired: int = 0
    unchanged: int = 0
    failed: list[Failure] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    @property
    def lines(self) -> int:
        return self.created + self.updated + self.retired + self.unchanged + len(self.failed)

    def as_dict(self) -> dict[str, Any]:
        return {
            CREATED: self.created,
            UPDATED: self.updated,
            RETIRED: self.retired,
            UNCHANGED: self.unchanged,
            "failed": [{"line": f.line, "reason": f.reason} for f in self.failed],
        }
