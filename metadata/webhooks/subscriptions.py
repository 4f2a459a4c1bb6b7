"""Managing webhook subscriptions: the service the REST door and the admin both call."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from metadata.errors import NotFound, RuleViolation, Violation
from metadata.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from metadata.webhooks.events import EVENT_TYPES, object_types
from metadata.webhooks.signing import new_secret

MSG_URL = "url must be an absolute http or https URL of at most 2000 characters"
MSG_OBJECT_TYPE = "object_type must be one of: {choices}"
MSG_EVENT_TYPES = "event_types must be a list drawn from: {choices}"
UNSET: Any = object()


def _violations(url: Any, object_type: Any, event_types: Any) -> list[Violation]:
    found = []
    if url is not UNSET:
        parts = urlsplit(url) if isinstance(url, str) else None
        if (
            parts is None
            or parts.scheme not in {"http", "https"}
            or not parts.netloc
            or len(url) > 2000
        ):
            found.append(Violation(("url",), MSG_URL, "value_error.url"))
    if object_type is not UNSET and object_type not in object_types():
        message = MSG_OBJECT_TYPE.format(choices=", ".join(object_types()))
        found.append(Violation(("object_type",), message, "value_error.object_type"))
    if event_types is not UNSET and (
        not isinstance(event_types, list) or not set(event_types) <= set(EVENT_TYPES)
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
) -> WebhookSubscription:
    """A new subscription; its `secret` is generated here and shown to the caller once."""
    event_types = list(event_types) if event_types is not None else []
    found = _violations(url, object_type, event_types)
    if found:
        raise RuleViolation(found)
    return WebhookSubscription.objects.create(
        url=url,
        object_type=object_type,
        event_types=event_types,
        secret=new_secret(),
        created_by_id=actor_id,
    )


def get_subscription(*, subscription_id: Any) -> WebhookSubscription:
    try:
        key = uuid.UUID(str(subscription_id))
    except ValueError as error:
        raise NotFound("No such webhook subscription.") from error
    subscription = WebhookSubscription.objects.filter(pk=key).first()
    if subscription is None:
        raise NotFound("No such webhook subscription.")
    return subscription


def update_subscription(
    *,
    subscription: WebhookSubscription,
    url: Any = UNSET,
    object_type: Any = UNSET,
    event_types: Any = UNSET,
    is_active: Any = UNSET,
) -> WebhookSubscription:
    found = _violations(url, object_type, event_types)
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


def redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Queue a delivery again now, whatever became of it, with a fresh retry budget.

    The attempts already made stay in its log (`WebhookAttempt`).
    """
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=timezone.now(),
            leased_until=None,
            attempts=0,
        )
    delivery.refresh_from_db()
    return delivery
