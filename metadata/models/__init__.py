"""The gateway's models: the linkable domain objects and the metadata that hangs on them."""

from metadata.models.accounts import Account, Property
from metadata.models.clients import APIKey, ClientKind, PartnerClient
from metadata.models.entities import Counterpart, Entity, Payable
from metadata.models.logins import Login
from metadata.models.metadata import Door, Metadata, MetadataChange, WriteContext
from metadata.models.users import User
from metadata.models.webhooks import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)

__all__ = [
    "APIKey",
    "Account",
    "ClientKind",
    "Counterpart",
    "DeliveryStatus",
    "Door",
    "Entity",
    "Login",
    "Metadata",
    "MetadataChange",
    "PartnerClient",
    "Payable",
    "Property",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookSubscription",
    "WriteContext",
]
