"""Contract section 3 as data: who reaches what among the demo users and objects.

Written from the contract, not from the code. The objects are generated from the linkable
registry, so a new type's demo objects must be classified here before its tests pass.
"""

from __future__ import annotations

from collections.abc import Iterator

from metadata.linkables import Linkable, all_linkables
from tests.conftest import (
    COOL_USER,
    COUNTERPART_ONE,
    DEMO_USERS,
    ENTITY_ONE,
    ENTITY_USER,
    PARTNER,
    PAYABLE_ONE,
    SOME_TEST,
    SUPPORT,
    SUPPORT_LEAD,
)

REACHES: dict[str, set[tuple[str, str]]] = {
    SOME_TEST: {("ACCOUNT", "A-154321"), ("PROPERTY", "1")},
    COOL_USER: {("ACCOUNT", "A-12345"), ("PROPERTY", "2")},
    ENTITY_USER: {
        ("ENTITY", ENTITY_ONE),
        ("COUNTERPART", COUNTERPART_ONE),
        ("PAYABLE", PAYABLE_ONE),
    },
    PARTNER: set(),
    SUPPORT: set(),
    SUPPORT_LEAD: set(),
}
for _email in DEMO_USERS:  # every user reaches themself
    REACHES[_email].add(("ACCOUNT_USER", _email))

MUTATE_ANY = {PARTNER, SUPPORT_LEAD}
VIEW_ANY = {SUPPORT}

WRITE, READ, NONE = "write", "read", "none"


def expected_access(email: str, type_name: str, identifier: str) -> str:
    if email in MUTATE_ANY or (type_name, identifier) in REACHES[email]:
        return WRITE
    if email in VIEW_ANY:
        return READ
    return NONE


def demo_objects() -> Iterator[tuple[Linkable, str]]:
    """Every linkable demo object, as (type, identifier); needs the demo data loaded."""
    for linkable in all_linkables():
        for obj in linkable.model.objects.all():
            yield linkable, linkable.identifier_of(obj)


def access_matrix() -> Iterator[tuple[str, Linkable, str, str]]:
    for email in DEMO_USERS:
        for linkable, identifier in demo_objects():
            yield email, linkable, identifier, expected_access(email, linkable.name, identifier)
