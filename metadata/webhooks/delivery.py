"""The delivery worker: fan events out to subscriptions, claim due deliveries, POST them.

At least once: a delivery is claimed with a short lease (`FOR UPDATE SKIP LOCKED` on
PostgreSQL, so several workers never claim the same one; SQLite serialises claims), posted
outside any transaction, then marked. A worker killed mid-delivery leaves the lease to
expire and another attempt follows. Failures retry with exponential backoff, shortened by a
random fraction (jitter) so deliveries that failed together do not all come back together.

The lease is also a fencing token: a worker records its outcome only while the delivery still
carries the lease it claimed. A worker that stalled past its lease (another has claimed the
delivery since) leaves its attempt in the log but changes nothing, so it can neither turn a
newer success back into a retry nor release the newer claim. A deactivated subscription is
paused: nothing is claimed for it, and an attempt already claimed is dropped before the POST.

An event goes only to subscriptions whose owner may read its object, asked when it is
fanned out and again just before each POST (`subscriptions.owner_may_read`): a delivery
whose owner has lost access is dropped without an attempt, so nothing of it reaches the
owner's log. The POST goes through `transport.session()`, which connects only to allowed
(public) addresses; a refused target is logged as a failed attempt with no status, no
duration and one fixed error, so the log tells nothing about what is behind the address.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from metadata.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from metadata.webhooks.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, signature_header
from metadata.webhooks.subscriptions import owner_may_read, signing_secrets
from metadata.webhooks.transport import TargetRefused, session

MSG_REFUSED = "target address not allowed"


@dataclass(frozen=True)
class Policy:
    timeout_seconds: float
    lease_seconds: float
    base_backoff_seconds: float
    max_backoff_seconds: float
    max_attempts: int
    backoff_jitter: float = 0.0
    """The fraction (0 to 1) a retry's delay may be shortened by, at random."""

    def __post_init__(self) -> None:
        if not 0 <= self.backoff_jitter <= 1:
            raise ValueError("backoff_jitter (WEBHOOK_BACKOFF_JITTER) must be between 0 and 1")

    @classmethod
    def from_settings(cls) -> Policy:
        return cls(**settings.WEBHOOK_DELIVERY)

    def backoff(self, attempts: int) -> timedelta:
        """base * 2**(attempts - 1), at most the maximum, less up to `backoff_jitter` of it."""
        seconds = min(self.base_backoff_seconds * 2 ** (attempts - 1), self.max_backoff_seconds)
        shortened = seconds * self.backoff_jitter * random.random()  # not a secret: spreads retries
        return timedelta(seconds=seconds - shortened)


def dispatch_events(*, batch: int = 100) -> int:
    """Fan undispatched events out to the subscriptions active when they happened whose
    owner may read the event's object."""
    dispatched = 0
    with transaction.atomic():
        pending = list(
            WebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(dispatched_at__isnull=True)
            .order_by("created_at")[:batch]
        )
        if not pending:
            return 0
        now = timezone.now()
        subscriptions = list(
            WebhookSubscription.objects.filter(
                is_active=True, object_type__in={event.object_type for event in pending}
            )
        )
        deliveries = [
            WebhookDelivery(subscription=subscription, event=event, next_attempt_at=now)
            for event in pending
            for subscription in subscriptions
            if subscription.object_type == event.object_type
            and subscription.created_at <= event.created_at
            and (not subscription.event_types or event.event_type in subscription.event_types)
            and owner_may_read(subscription, event)
        ]
        WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        WebhookEvent.objects.filter(pk__in=[event.pk for event in pending]).update(
            dispatched_at=now
        )
        dispatched = len(pending)
    return dispatched


def claim_due(*, batch: int, policy: Policy) -> list[WebhookDelivery]:
    """Due deliveries whose lease is free, leased to this worker."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .filter(subscription__is_active=True)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
            .order_by("next_attempt_at")[:batch]
        )
        WebhookDelivery.objects.filter(pk__in=[d.pk for d in due]).update(
            leased_until=now + timedelta(seconds=policy.lease_seconds)
        )
    return list(
        WebhookDelivery.objects.select_related("event", "subscription").filter(
            pk__in=[d.pk for d in due]
        )
    )


def deliver(delivery: WebhookDelivery, *, policy: Policy) -> bool:
    """POST one delivery, record the attempt, and mark it delivered or schedule a retry.

    A delivery whose owner may no longer read the event's object is deleted unsent; one whose
    subscription was deactivated since the claim is left pending, its lease released.
    """
    mine = WebhookDelivery.objects.filter(pk=delivery.pk, leased_until=delivery.leased_until)
    if not WebhookSubscription.objects.filter(pk=delivery.subscription_id, is_active=True).exists():
        mine.update(leased_until=None)
        return False
    if not owner_may_read(delivery.subscription, delivery.event):
        mine.delete()
        return False
    body = json.dumps(delivery.event.payload, separators=(",", ":")).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature_header(signing_secrets(delivery.subscription), body),
        EVENT_ID_HEADER: str(delivery.event_id),
        "User-Agent": "metadata-gateway-webhooks/1",
    }
    started = timezone.now()
    clock = time.perf_counter()
    status_code: int | None = None
    duration_ms: int | None = None
    error = ""
    try:
        with session() as sending:
            response = sending.post(
                delivery.subscription.url,
                data=body,
                headers=headers,
                timeout=policy.timeout_seconds,
                allow_redirects=False,
                stream=True,  # the status is the answer: never wait for a (slow) body
            )
            response.close()
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"the receiver answered {status_code}"
    except TargetRefused:
        error = MSG_REFUSED
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: the receiver could not be reached"
    if error != MSG_REFUSED:
        duration_ms = int((time.perf_counter() - clock) * 1000)
    delivered = not error
    attempts = delivery.attempts + 1
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            started_at=started,
            duration_ms=duration_ms,
            status_code=status_code,
            error=error,
        )
        changes: dict[str, object] = {
            "attempts": attempts,
            "last_status_code": status_code,
            "last_error": error,
            "leased_until": None,
        }
        if delivered:
            changes.update(status=DeliveryStatus.DELIVERED, delivered_at=timezone.now())
        elif attempts >= policy.max_attempts:
            changes.update(status=DeliveryStatus.FAILED)
        else:
            changes.update(next_attempt_at=timezone.now() + policy.backoff(attempts))
        # Only while the lease is still ours: a newer claim's outcome is not overwritten.
        mine.update(**changes)
    return delivered


def run_once(*, batch: int = 50, policy: Policy | None = None) -> int:
    """One pass: dispatch new events, deliver what is due. Returns deliveries attempted."""
    policy = policy or Policy.from_settings()
    dispatch_events(batch=batch)
    claimed = claim_due(batch=batch, policy=policy)
    for delivery in claimed:
        deliver(delivery, policy=policy)
    return len(claimed)
