"""Metadata goes with its object: deleting a linkable object deletes its rows. A user saved
inactive loses their logins (their refresh tokens), so reactivating them later does not bring
old sessions back."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from metadata import services, tokens
from metadata.linkables import all_linkables, for_model
from metadata.models import User


def _forget(sender: type, instance: Any, **kwargs: Any) -> None:
    linkable = for_model(sender)
    if linkable is not None:
        services.forget_object(linkable=linkable, pk=instance.pk)


def _end_logins_of_inactive_user(sender: type, instance: User, **kwargs: Any) -> None:
    if not instance.is_active:
        tokens.revoke_logins(instance.pk)


def connect() -> None:
    post_save.connect(_end_logins_of_inactive_user, sender=User, dispatch_uid="end-logins")
    for linkable in all_linkables():
        post_delete.connect(_forget, sender=linkable.model, dispatch_uid=f"forget-{linkable.name}")
