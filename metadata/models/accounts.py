"""Kraken's side: an account, the people on it and its supply addresses."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Account(models.Model):
    number = models.CharField(max_length=32, unique=True, help_text="For example A-154321.")
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="accounts", blank=True)

    class Meta:
        ordering = ("number",)

    def __str__(self) -> str:
        return self.number


class Property(models.Model):
    """A supply address of an account."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="properties")
    address = models.CharField(max_length=300)

    class Meta:
        ordering = ("id",)
        verbose_name_plural = "properties"

    def __str__(self) -> str:
        return f"Property {self.pk} ({self.address})"
