"""Monite's side: an entity (a partner's customer) with its counterparts and payables."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Entity(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="entities", blank=True)

    class Meta:
        ordering = ("name",)
        verbose_name_plural = "entities"

    def __str__(self) -> str:
        return self.name


class Counterpart(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="counterparts")
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.name} ({self.pk})"


class Payable(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="payables")
    document_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"Payable {self.document_id or self.pk}"
