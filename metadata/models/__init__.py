"""The gateway's models: the linkable domain objects and the metadata that hangs on them."""

from metadata.models.accounts import Account, Property
from metadata.models.clients import PartnerClient
from metadata.models.entities import Counterpart, Entity, Payable
from metadata.models.metadata import Door, Metadata, MetadataChange
from metadata.models.users import User

__all__ = [
    "Account",
    "Counterpart",
    "Door",
    "Entity",
    "Metadata",
    "MetadataChange",
    "PartnerClient",
    "Payable",
    "Property",
    "User",
]
