"""Operator onboarding: partner and provisioning clients made without a shell or the admin.

A client acts for a user of its own, made with it and holding no permission and no
password: the client's reach comes from what it serves, never from a person's rights.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from metadata.models import ClientKind, Entity, PartnerClient, User

CLIENT_USER_DOMAIN = "clients.invalid"  # RFC 2606: never a real mailbox


class OnboardingError(Exception):
    """The operator's request cannot be carried out; nothing was created."""


@dataclass(frozen=True)
class NewClient:
    client: PartnerClient
    secret: str  # shown once; only its hash is stored


def _entities(identifiers: Sequence[str]) -> list[Entity]:
    malformed, keys = [], []
    for identifier in identifiers:
        try:
            keys.append(uuid.UUID(identifier.strip()))
        except ValueError:
            malformed.append(identifier)
    if malformed:
        raise OnboardingError(f"Not entity ids (UUIDs): {', '.join(map(repr, malformed))}.")
    found = {entity.pk: entity for entity in Entity.objects.filter(pk__in=keys)}
    unknown = [str(key) for key in keys if key not in found]
    if unknown:
        raise OnboardingError(f"No entity has the id {', '.join(unknown)}; nothing was created.")
    return list(dict.fromkeys(found[key] for key in keys))


def create_client(
    *, name: str, entity_ids: Sequence[str] = (), provisioning: bool = False
) -> NewClient:
    """A new client with a fresh secret; `OnboardingError` (and nothing created) otherwise."""
    name = name.strip()
    if not name:
        raise OnboardingError("A client needs a name (--name).")
    if provisioning and entity_ids:
        raise OnboardingError("A provisioning client serves no entities; drop --entity.")
    if not provisioning and not entity_ids:
        raise OnboardingError("A partner client serves at least one entity (--entity ID).")
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        entities = _entities(entity_ids)
        client_id = uuid.uuid4()
        user = User.objects.create_user(
            email=f"client-{client_id}@{CLIENT_USER_DOMAIN}", full_name=f"Client: {name}"[:200]
        )  # no password: an unusable one
        client = PartnerClient(
            client_id=client_id,
            name=name[:200],
            user=user,
            kind=ClientKind.PROVISIONING if provisioning else ClientKind.PARTNER,
        )
        client.set_secret(secret)
        client.save(force_insert=True)
        client.entities.add(*entities)  # its reach (contract section 11)
    return NewClient(client=client, secret=secret)
