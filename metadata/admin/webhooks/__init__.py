"""Webhooks in the admin: partners' subscriptions, the change events and their delivery log.

Who may do what is asked of the one permission object (`metadata_permission` with
`Principal.for_user`), never of Django's per-model flags:

* Staff who may change any metadata (`may_change_any`, CAN_MUTATE_METADATA; in the demo data
  support.lead@example.com) manage subscriptions (add, edit, activate or deactivate, delete)
  and redeliver deliveries.
* Staff who may only view any metadata (`may_view_any`; support@example.com) see
  subscriptions, events and deliveries read-only, so they can answer "our webhook never
  arrived" without escalating. They see a subscription's URL and its delivery outcomes; no
  page shows any part of a secret after the one message at creation, no changelist filters
  on one (`RefusesSecretLookups`, as `UserAdmin` does for passwords), and events carry
  metadata they may already read. They can neither edit, delete nor redeliver (403, and no
  controls shown).
* Nobody adds, changes or deletes events, deliveries or attempts by hand: the outbox and the
  worker write them, and a subscription's deliveries go when it is deleted.

Every change goes through `metadata.webhooks.subscriptions`, the service the REST door calls
too, so its rules and their messages are the admin's.
"""

from metadata.admin.webhooks import deliveries, events, subscriptions

__all__ = ["deliveries", "events", "subscriptions"]
