"""Contracts sections 3 and 11 as data: who reaches what among the demo callers and objects.

Written from the contract, not from the code. The objects are generated from the linkable
registry, so a new type's demo objects must be classified here before its tests pass.

The callers are the demo users (each with a token of their own) and the demo partner
clients (each with its `client_credentials` token, named here by client id). A client is a
tenant: it reaches the entities it serves and their counterparts and payables, and nothing
else, whatever permissions its user holds.
"""

from __future__ import annotations

from collections.abc import Iterator

from metadata.linkables import Linkable, all_linkables
from tests.conftest import (
    COOL_USER,
    COUNTERPART_ONE,
    COUNTERPART_TWO,
    DEMO_USERS,
    ENTITY_ONE,
    ENTITY_TWO,
    ENTITY_USER,
    PARTNER,
    PARTNER_CLIENT_ID,
    PARTNER_CLIENT_TWO_ID,
    PARTNER_TWO,
    PAYABLE_ONE,
    PAYABLE_TWO,
    PROVISIONING_CLIENT_ID,
    SOME_TEST,
    SUPPORT,
    SUPPORT_LEAD,
)

ENTITY_ONE_OBJECTS = {
    ("ENTITY", ENTITY_ONE),
    ("COUNTERPART", COUNTERPART_ONE),
    ("PAYABLE", PAYABLE_ONE),
}
ENTITY_TWO_OBJECTS = {
    ("ENTITY", ENTITY_TWO),
    ("COUNTERPART", COUNTERPART_TWO),
    ("PAYABLE", PAYABLE_TWO),
}

CLIENT_ONE = PARTNER_CLIENT_ID  # serves Entity One and Entity Two
CLIENT_TWO = PARTNER_CLIENT_TWO_ID  # serves Entity Two only
PROVISIONING = PROVISIONING_CLIENT_ID  # feeds objects; reaches no metadata (section 13)
PRINCIPALS = (*DEMO_USERS, CLIENT_ONE, CLIENT_TWO, PROVISIONING)

REACHES: dict[str, set[tuple[str, str]]] = {
    SOME_TEST: {("ACCOUNT", "A-154321"), ("PROPERTY", "1")},
    COOL_USER: {("ACCOUNT", "A-12345"), ("PROPERTY", "2")},
    ENTITY_USER: set(ENTITY_ONE_OBJECTS),
    PARTNER: set(),
    PARTNER_TWO: set(),
    SUPPORT: set(),
    SUPPORT_LEAD: set(),
}
for _email in DEMO_USERS:  # every user reaches themself; a client is no user
    REACHES[_email].add(("ACCOUNT_USER", _email))
REACHES[CLIENT_ONE] = ENTITY_ONE_OBJECTS | ENTITY_TWO_OBJECTS
REACHES[CLIENT_TWO] = set(ENTITY_TWO_OBJECTS)
REACHES[PROVISIONING] = set()

# Global flags belong to persons; a client's user (partner@example.com for client one)
# holding CAN_MUTATE_METADATA gives the client nothing.
MUTATE_ANY = {PARTNER, SUPPORT_LEAD}
VIEW_ANY = {SUPPORT}

WRITE, READ, NONE = "write", "read", "none"


def expected_access(principal: str, type_name: str, identifier: str) -> str:
    if principal in MUTATE_ANY or (type_name, identifier) in REACHES[principal]:
        return WRITE
    if principal in VIEW_ANY:
        return READ
    return NONE


def demo_objects() -> Iterator[tuple[Linkable, str]]:
    """Every linkable demo object, as (type, identifier); needs the demo data loaded."""
    for linkable in all_linkables():
        for obj in linkable.model.objects.all():
            yield linkable, linkable.identifier_of(obj)


def access_matrix() -> Iterator[tuple[str, Linkable, str, str]]:
    """(caller, type, identifier, access): a caller is a demo user's email or a demo partner
    client's id (`token_for` makes the token of either)."""
    for principal in PRINCIPALS:
        for linkable, identifier in demo_objects():
            yield (
                principal,
                linkable,
                identifier,
                expected_access(principal, linkable.name, identifier),
            )
