"""The one metadata store: a row per (linked object, key), and the audit trail of changes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class Door(models.TextChoices):
    REST = "rest", "REST"
    GRAPHQL = "graphql", "GraphQL"
    ADMIN = "admin", "Admin"
    # The platform's system of record retiring an object (contract section 13).
    PROVISIONING = "provisioning", "Provisioning"


@dataclass(frozen=True)
class WriteContext:
    """Who writes, through which door, for which request: recorded on every audit entry.

    It lives beside `Door`, below both the services that write and the webhook events that
    carry it, so neither imports the other for it.
    """

    actor_id: uuid.UUID | None
    door: Door
    request_id: str = ""


class Metadata(models.Model):
    """One key of one object's metadata document.

    `object_id` holds the linked object's primary key as text, so integer and UUID keys share
    one column; the linkable registry converts identifiers to it.
    """

    # No index of its own: every index here begins with the content type (a second index on
    # it alone would only cost every write).
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    object_id = models.CharField(max_length=64)
    linked_object = GenericForeignKey("content_type", "object_id")
    key = models.CharField(max_length=100)
    value = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = "metadata key"
        verbose_name_plural = "metadata"
        ordering = ("content_type_id", "object_id", "key")
        constraints = [
            models.UniqueConstraint(
                fields=("content_type", "object_id", "key"), name="metadata_unique_object_key"
            ),
        ]
        indexes = [
            # The admin's sort by "updated at" (migration 0010 says why it is the only one).
            models.Index(fields=("updated_at",), name="metadata_updated_at_idx"),
        ]
        permissions = [("can_mutate_metadata", "Can mutate metadata of any object")]

    def __str__(self) -> str:
        return f"{self.content_type.model}:{self.object_id}:{self.key}"


class MetadataChange(models.Model):
    """An audit entry: one key changed by one write, from one door, by one actor.

    `existed_before`/`exists_after` tell a stored `null` apart from an absent key, so the
    old and new values of a key's history replay to its current value.
    """

    # No index of its own: every index here begins with the content type (a second index on
    # it alone would only cost every write).
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    object_id = models.CharField(max_length=64)
    linked_object = GenericForeignKey("content_type", "object_id")
    key = models.CharField(max_length=100)
    existed_before = models.BooleanField()
    old_value = models.JSONField(null=True)
    exists_after = models.BooleanField()
    new_value = models.JSONField(null=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    door = models.CharField(max_length=16, choices=Door.choices)
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(
                fields=("content_type", "object_id", "-created_at"),
                name="metadatachange_object_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} via {self.door} at {self.created_at:%Y-%m-%d %H:%M:%S}"

    @property
    def action(self) -> str:
        if not self.existed_before:
            return "created"
        return "updated" if self.exists_after else "deleted"
