"""The Django admin for support staff: linked objects, their metadata and its history.

Every decision goes through the core: `metadata_permission` says who may view or change
metadata, `metadata.rules` what a document may hold, and `metadata.services` makes every
change (with an audit entry from the admin door). The modules that register pages:
`objects` (linked objects, with their metadata inline from `linked`), `store` (metadata
rows), `audit` (their history), `webhooks` (subscriptions, events, deliveries) and
`api_keys`.
"""

from metadata.admin import api_keys, audit, objects, store, webhooks

__all__ = ["api_keys", "audit", "objects", "store", "webhooks"]
