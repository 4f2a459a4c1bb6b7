"""Change events for partners: subscriptions, the transactional outbox and its deliveries."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class WebhookSubscription(models.Model):
    """A partner's endpoint for one object type's metadata changes (Monite-shaped).

    It belongs to its creator (contract section 11): the person `created_by` and, when it
    was made with a partner client's token, that client (`created_by_client`). Only that
    owner manages it, and it receives only events its owner may read when they are
    delivered. A client's subscriptions go with the client: left behind without it they
    would fall to the client's user, whose reach may be wider.

    `secret` signs deliveries; after a rotation `previous_secret` signs them too until
    `previous_secret_expires_at`, so receivers can switch over without losing events.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    url = models.URLField(max_length=2000)
    object_type = models.CharField(max_length=64, db_index=True)
    event_types = models.JSONField(default=list, blank=True, help_text="Empty means every type.")
    secret = models.CharField(max_length=128, editable=False)
    previous_secret = models.CharField(max_length=128, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by_client = models.ForeignKey(
        "metadata.PartnerClient",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.object_type} -> {self.url}"


class WebhookEvent(models.Model):
    """One committed change that changed something, written in the change's transaction.

    `dispatched_at` is set once the event has been fanned out to its deliveries.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    object_type = models.CharField(max_length=64)
    event_type = models.CharField(max_length=16)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [
            models.Index(
                fields=("created_at",),
                name="webhookevent_undispatched_idx",
                condition=models.Q(dispatched_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.object_type}.{self.event_type} {self.id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event for one subscription, retried with backoff until delivered or given up."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    leased_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=("subscription", "event"), name="webhookdelivery_once_per_subscription"
            ),
        ]
        indexes = [
            models.Index(fields=("status", "next_attempt_at"), name="webhookdelivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} -> {self.subscription.url} ({self.status})"


class WebhookAttempt(models.Model):
    """Every POST the worker made, with what came back.

    `duration_ms` is None for an attempt refused before any connection (a target address
    that is not public): its log tells nothing about the refused address.
    """

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ("-started_at", "-id")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"
