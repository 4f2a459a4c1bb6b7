"""The event a committed change produces, written in the change's own transaction.

Because the event row commits or rolls back with the metadata rows, a crash between commit
and delivery loses nothing, and a refused or no-op write produces no event.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from metadata.linkables import REGISTRY, Target
from metadata.models import WriteContext
from metadata.rules import Document

CREATED, UPDATED, DELETED = "created", "updated", "deleted"
EVENT_TYPES = (CREATED, UPDATED, DELETED)


def object_types() -> list[str]:
    """One object type per linkable type, from the registry."""
    return [linkable.webhook_object_type for linkable in REGISTRY.values()]


def event_type_of(before: Document, after: Document) -> str:
    if not before:
        return CREATED
    return DELETED if not after else UPDATED


def change_event(
    *,
    target: Target,
    before: Document,
    after: Document,
    changes: Sequence[Mapping[str, Any]],
    context: WriteContext,
    at: datetime.datetime,
) -> tuple[uuid.UUID, dict[str, Any]]:
    """The id and payload of one change's event, not yet saved: `metadata.services` writes it
    with the change (a batch builds a hundred; a model instance each would cost more than the
    payload).

    `changes` are the change's audit entries (`key`, `existed_before`, `old_value`,
    `exists_after`, `new_value`, in key order), built once by the service for both.
    """
    event_id = uuid.uuid4()
    event_type = event_type_of(before, after)
    payload = {
        "id": str(event_id),
        "created_at": at.isoformat(),
        "object_type": target.linkable.webhook_object_type,
        "event_type": event_type,
        "object": {"type": target.linkable.name, "id": target.identifier},
        "changes": list(changes),
        "door": str(context.door),
        "actor_id": str(context.actor_id) if context.actor_id else None,
        "request_id": context.request_id,
    }
    return event_id, payload
