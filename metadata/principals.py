"""Who is calling: a user id from a token, and the few facts the permission needs about them.

A partner client's token also names the client (contract section 11): such a principal
reaches the objects of the entities the client serves and holds no global flag, whatever its
user holds as a person.

A principal is stateless until a decision needs the user's state. A read states it in the
statement that finds the object (`metadata.sql.reads.READ`), so a read costs no separate query;
otherwise one statement loads it (`metadata.reads.flags`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.db import router
from django.db.models import Q

from metadata.linkables import Linkable
from metadata.models import PartnerClient, User
from metadata.sql import reads

MUTATE_PERMISSION = "metadata.can_mutate_metadata"
VIEW_PERMISSION = "metadata.view_metadata"


@dataclass(frozen=True)
class Flags:
    is_active: bool
    can_mutate_any: bool
    can_view_any: bool


INACTIVE = Flags(is_active=False, can_mutate_any=False, can_view_any=False)


@dataclass(eq=False)
class Principal:
    """The authenticated caller. Quacks enough like a user for DRF's throttles and logs."""

    user_id: uuid.UUID
    # The partner client whose `client_credentials` token this is (contract section 11), or
    # None for a person's own token: a client acts for its user but reaches only what it serves.
    client_id: uuid.UUID | None = None
    # The API key (of that client) the token was earned with: revoking it ends the token.
    api_key_id: uuid.UUID | None = None
    _flags: Flags | None = field(default=None, repr=False)

    is_authenticated = True
    is_anonymous = False

    @classmethod
    def for_user(cls, user: User) -> Principal:
        """A principal for a session user (the admin), with flags from Django's permissions."""
        return cls(
            user_id=user.pk,
            _flags=Flags(
                is_active=user.is_active,
                can_mutate_any=user.has_perm(MUTATE_PERMISSION),
                can_view_any=user.has_perm(VIEW_PERMISSION),
            ),
        )

    @property
    def pk(self) -> uuid.UUID:
        return self.user_id

    @property
    def is_client(self) -> bool:
        """A partner client's token: the client's reach, never its user's own."""
        return self.client_id is not None

    @property
    def caller(self) -> reads.Caller:
        return reads.Caller(self.user_id, self.client_id, self.api_key_id)

    def prime(self, flags: Flags) -> None:
        """Keep the flags a statement stated along the way, for the decisions that follow."""
        if self._flags is None:
            self._flags = flags

    @property
    def flags(self) -> Flags:
        if self._flags is None:
            found = reads.flags(self.caller, router.db_for_read(User))
            self._flags = INACTIVE if found is None else Flags(*found)
        return self._flags


def reach_filter(linkable: Linkable, principal: Principal) -> Q:
    """The objects of one type the principal reaches with account-user level access (a
    partner client: the objects of the entities it serves), as an ORM filter for the pages
    off the hot path (lookups, batches, the admin)."""
    if not principal.is_client:
        return Q(**{linkable.reach: principal.user_id})
    if linkable.entity_field is None:
        return Q(pk__in=[])
    served = PartnerClient.entities.through.objects.filter(partnerclient_id=principal.client_id)
    return Q(**{f"{linkable.entity_field}__in": served.values("entity_id")})
