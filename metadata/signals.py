"""Metadata goes with its object: deleting a linkable object deletes its rows."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete

from metadata import services
from metadata.linkables import all_linkables, for_model


def _forget(sender: type, instance: Any, **kwargs: Any) -> None:
    linkable = for_model(sender)
    if linkable is not None:
        services.forget_object(linkable=linkable, pk=instance.pk)


def connect() -> None:
    for linkable in all_linkables():
        post_delete.connect(_forget, sender=linkable.model, dispatch_uid=f"forget-{linkable.name}")
