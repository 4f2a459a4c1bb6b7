"""Managing webhook subscriptions: the service the REST door and the admin both call.

A subscription belongs to its creator (contract section 11): a person, and the partner
client when a client's token made it. The REST door reaches a subscription only through
its owner (`owned_by`, `get_subscription`); the worker delivers an event only when the
owner may read its object then (`owner_may_read`), asked of the core's one permission.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from metadata.errors import NotFound, RuleViolation, Violation
from metadata.linkables import REGISTRY
from metadata.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from metadata.permissions import metadata_permission
from metadata.principals import Principal
from metadata.selectors import find_target
from metadata.webhooks.events import EVENT_TYPES, object_types
from metadata.webhooks.signing import new_secret
from metadata.webhooks.targets import url_violation

MSG_NOT_FOUND = "No such webhook subscription."
MSG_OBJECT_TYPE = "object_type must be one of: {choices}"
MSG_EVENT_TYPES = "event_types must be a list drawn from: {choices}"
UNSET: Any = object()


def field_violations(
    *, url: Any = UNSET, object_type: Any = UNSET, event_types: Any = UNSET
) -> list[Violation]:
    """What `create_subscription` and `update_subscription` would refuse in these fields
    (the ones given), for a form that reports every error before it saves anything."""
    found = []
    if url is not UNSET:
        message = url_violation(url)
        if message is not None:
            found.append(Violation(("url",), message, "value_error.url"))
    if object_type is not UNSET and object_type not in object_types():
        message = MSG_OBJECT_TYPE.format(choices=", ".join(object_types()))
        found.append(Violation(("object_type",), message, "value_error.object_type"))
    if event_types is not UNSET and (
        not isinstance(event_types, list)
        or not all(isinstance(name, str) and name in EVENT_TYPES for name in event_types)
    ):
        message = MSG_EVENT_TYPES.format(choices=", ".join(EVENT_TYPES))
        found.append(Violation(("event_types",), message, "value_error.event_types"))
    return found


def create_subscription(
    *,
    url: Any,
    object_type: Any,
    event_types: Sequence[str] | None = None,
    actor_id: uuid.UUID | None,
    client_id: uuid.UUID | None = None,
) -> WebhookSubscription:
    """A new subscription owned by `actor_id` (and `client_id`, the partner client whose
    token made it); its `secret` is generated here and shown to the caller once."""
    event_types = [] if event_types is None else event_types
    found = field_violations(url=url, object_type=object_type, event_types=event_types)
    if found:
        raise RuleViolation(found)
    return WebhookSubscription.objects.create(
        url=url,
        object_type=object_type,
        event_types=event_types,
        secret=new_secret(),
        created_by_id=actor_id,
        created_by_client_id=client_id,
    )


def owned_by(owner: Principal) -> QuerySet[WebhookSubscription]:
    """The owner's subscriptions: same person and same client (or both without one)."""
    return WebhookSubscription.objects.filter(
        created_by_id=owner.user_id, created_by_client_id=owner.client_id
    )


def get_subscription(*, subscription_id: Any, owner: Principal) -> WebhookSubscription:
    """One of the owner's subscriptions; another owner's answers as a missing one."""
    try:
        key = uuid.UUID(str(subscription_id))
    except ValueError as error:
        raise NotFound(MSG_NOT_FOUND) from error
    subscription = owned_by(owner).filter(pk=key).first()
    if subscription is None:
        raise NotFound(MSG_NOT_FOUND)
    return subscription


def update_subscription(
    *,
    subscription: WebhookSubscription,
    url: Any = UNSET,
    object_type: Any = UNSET,
    event_types: Any = UNSET,
    is_active: Any = UNSET,
) -> WebhookSubscription:
    found = field_violations(url=url, object_type=object_type, event_types=event_types)
    if is_active is not UNSET and not isinstance(is_active, bool):
        found.append(Violation(("is_active",), "is_active must be true or false", "type_error"))
    if found:
        raise RuleViolation(found)
    for field, value in (
        ("url", url),
        ("object_type", object_type),
        ("event_types", event_types),
        ("is_active", is_active),
    ):
        if value is not UNSET:
            setattr(subscription, field, value)
    subscription.save()
    return subscription


def delete_subscription(*, subscription: WebhookSubscription) -> None:
    subscription.delete()


def rotate_secret(*, subscription: WebhookSubscription) -> WebhookSubscription:
    """A new signing secret, returned once; the current one keeps signing too (deliveries
    carry both signatures) until `previous_secret_expires_at`, so the partner can switch
    its receiver over without refusing an event. Rotating again within the grace period
    drops the oldest secret. The caller shows the new `secret` once and never again."""
    secret = new_secret()
    expires_at = timezone.now() + timedelta(seconds=settings.WEBHOOK_SECRET_GRACE_SECONDS)
    with transaction.atomic():
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            previous_secret=subscription.secret,
            previous_secret_expires_at=expires_at,
            secret=secret,
            updated_at=timezone.now(),
        )
    subscription.refresh_from_db()
    return subscription


def signing_secrets(
    subscription: WebhookSubscription, *, at: datetime.datetime | None = None
) -> list[str]:
    """The secrets that sign a delivery now: the current one, then the previous one while
    its grace period lasts."""
    at = timezone.now() if at is None else at
    secrets = [subscription.secret]
    expires_at = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires_at is not None and at < expires_at:
        secrets.append(subscription.previous_secret)
    return secrets


def owner_may_read(subscription: WebhookSubscription, event: WebhookEvent) -> bool:
    """Whether the subscription's owner may read the event's object now.

    Asked of the core as any read is (`find_target` + `metadata_permission.can_read`), with
    the owner's principal: the person and, for a client's subscription, the client, whose
    reach is the client's own. No owner (the person was deleted), no events.
    """
    if subscription.created_by_id is None:
        return False
    changed = event.payload.get("object") or {}
    linkable = REGISTRY.get(changed.get("type", ""))
    if linkable is None:
        return False
    owner = Principal(
        user_id=subscription.created_by_id, client_id=subscription.created_by_client_id
    )
    target = find_target(linkable=linkable, identifier=str(changed.get("id")), principal=owner)
    return target is not None and metadata_permission.can_read(owner, target)


def redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Queue a delivered or failed delivery again now; a pending one is left as it is.

    The retry budget is not reset: a delivery that has used it up gets one attempt per
    redelivery, and a pending one keeps its backoff, so that redelivering cannot make the
    worker post faster or more often than its policy says. The attempts already made stay
    in its log (`WebhookAttempt`).
    """
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).exclude(
            status=DeliveryStatus.PENDING
        ).update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=timezone.now(),
            leased_until=None,
        )
    delivery.refresh_from_db()
    return delivery
