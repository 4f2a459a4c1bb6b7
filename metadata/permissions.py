"""The one permission of the gateway (contract section 3), for every door.

Every door calls the same object, `metadata_permission`: the REST door through its DRF
permission class (`metadata.rest.permissions`), the GraphQL resolvers and the admin directly.
It knows no protocol: each door reads its own request and maps the errors raised here to its
own format. The order of the checks is the contract's: the caller is authenticated and still
active, the object exists and the caller may read it (else the same 404 for both), then the
caller may change it (else 403).

A partner client's principal (contract section 11) goes through the same checks: its
target's `reachable` says whether the client serves the object's entity, and its flags
grant nothing globally (`principals.client_flag_annotations`).
"""

from __future__ import annotations

import enum
import uuid

from metadata.errors import InvalidToken, NotAuthenticated, NotFound, PermissionDenied
from metadata.linkables import Linkable, Target
from metadata.models import ClientKind, PartnerClient
from metadata.principals import Principal

MSG_INACTIVE = (
    "The token's user is inactive or no longer exists (or, for a partner client's token, "
    "the client no longer exists)."
)
MSG_SUBSCRIBE = (
    "Webhook subscriptions are for partner clients' tokens and for people holding the "
    "CAN_MUTATE_METADATA permission."
)


class Action(enum.Enum):
    READ = "read"
    WRITE = "write"


def in_entity_scope(target: Target, entity_scope: str | None) -> bool:
    """The `X-Monite-Entity-Id` header: absent scopes nothing; malformed scopes to nothing.

    Types that belong to no entity (accounts, properties, users) ignore it.
    """
    if entity_scope is None or target.linkable.entity_field is None:
        return True
    try:
        return target.entity_id == uuid.UUID(entity_scope.strip())
    except ValueError:
        return False


class ReadScope(enum.Enum):
    """Which objects of one type a principal may read, for lookups (`readable_scope`)."""

    ALL = "all"  # view_metadata or CAN_MUTATE_METADATA: every object
    USER = "user"  # the objects the user reaches (the registry's `reach`)
    CLIENT = "client"  # the objects of the entities a partner client serves
    NOTHING = "nothing"  # a partner client and a type that belongs to no entity


class MetadataAccess:
    """Account-user level access, or CAN_MUTATE_METADATA; reads also with view_metadata."""

    def authenticate(self, principal: Principal | None) -> Principal:
        if principal is None:
            raise NotAuthenticated()
        if not principal.flags.is_active:
            raise InvalidToken(MSG_INACTIVE)
        return principal

    def can_read(self, principal: Principal, target: Target) -> bool:
        flags = principal.flags
        return flags.is_active and (target.reachable or flags.can_view_any or flags.can_mutate_any)

    def can_write(self, principal: Principal, target: Target) -> bool:
        flags = principal.flags
        return flags.is_active and (target.reachable or flags.can_mutate_any)

    def check(
        self,
        principal: Principal | None,
        target: Target | None,
        action: Action,
        *,
        entity_scope: str | None = None,
    ) -> Target:
        """Raise the contract's error for the first check that fails; return the target."""
        principal = self.authenticate(principal)
        if target is None or not self.can_read(principal, target):
            raise NotFound()
        if not in_entity_scope(target, entity_scope):
            raise NotFound()
        if action is Action.WRITE and not self.can_write(principal, target):
            raise PermissionDenied()
        return target

    def readable_scope(self, principal: Principal, linkable: Linkable) -> ReadScope:
        """Which objects of one type a principal may read. A partner client reaches only
        what belongs to the entities it serves; global flags never apply to it."""
        flags = self.authenticate(principal).flags
        if principal.is_client:
            return ReadScope.CLIENT if linkable.entity_field else ReadScope.NOTHING
        if flags.can_view_any or flags.can_mutate_any:
            return ReadScope.ALL
        return ReadScope.USER

    def may_view_any(self, principal: Principal) -> bool:
        flags = principal.flags
        return flags.is_active and (flags.can_view_any or flags.can_mutate_any)

    def may_change_any(self, principal: Principal) -> bool:
        flags = principal.flags
        return flags.is_active and flags.can_mutate_any

    def check_subscriber(self, principal: Principal | None) -> Principal:
        """Who may keep webhook subscriptions: a partner client, or a person holding
        CAN_MUTATE_METADATA. Either sees only its own subscriptions, and receives events
        only for objects it may read at delivery, so neither learns of another's objects."""
        principal = self.authenticate(principal)
        if principal.is_client:
            serves_metadata = PartnerClient.objects.filter(
                pk=principal.client_id, kind=ClientKind.PARTNER
            ).exists()  # a provisioning client reaches no metadata, so hears of none
            if serves_metadata:
                return principal
        elif self.may_change_any(principal):
            return principal
        raise PermissionDenied(MSG_SUBSCRIBE)


metadata_permission = MetadataAccess()
