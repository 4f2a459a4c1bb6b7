"""The one permission (contract section 3), decided for every demo user and object."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from metadata import selectors
from metadata.errors import InvalidToken, NotAuthenticated, NotFound, PermissionDenied
from metadata.linkables import by_name
from metadata.models import User
from metadata.permissions import Action
from metadata.principals import Principal
from metadata.tokens import principal_from_header
from tests.access import NONE, READ, WRITE, access_matrix
from tests.conftest import (
    COUNTERPART_ONE,
    COUNTERPART_TWO,
    ENTITY_ONE,
    ENTITY_TWO,
    ENTITY_USER,
    PARTNER,
    SOME_TEST,
)


def principal(token_for: Callable[[str], str], email: str) -> Principal:
    return principal_from_header(f"Bearer {token_for(email)}")


def outcome(
    token_for: Callable[[str], str], email: str, type_name: str, identifier: str, action: Action
) -> str:
    try:
        selectors.open_target(
            principal=principal(token_for, email),
            linkable=by_name(type_name),
            identifier=identifier,
            action=action,
        )
    except NotFound:
        return "404"
    except PermissionDenied:
        return "403"
    return "ok"


def test_every_demo_user_on_every_demo_object(token_for: Callable[[str], str]) -> None:
    mismatches = []
    cases = 0
    for email, linkable, identifier, expected in access_matrix():
        read = outcome(token_for, email, linkable.name, identifier, Action.READ)
        write = outcome(token_for, email, linkable.name, identifier, Action.WRITE)
        wanted = {WRITE: ("ok", "ok"), READ: ("ok", "403"), NONE: ("404", "404")}[expected]
        cases += 1
        if (read, write) != wanted:
            mismatches.append((email, linkable.name, identifier, expected, read, write))
    assert cases == 10 * 18  # 7 users and 3 clients x 18 objects (8 of them users)
    assert mismatches == []


@pytest.mark.parametrize(
    ("type_name", "identifier"),
    [
        ("ACCOUNT", "A-999999"),
        ("ACCOUNT_USER", "nobody@example.com"),
        ("PROPERTY", "999"),
        ("PROPERTY", "abc"),
        ("PROPERTY", "-1"),
        ("PROPERTY", "99999999999999999999999"),
        ("ENTITY", "not-a-uuid"),
        ("ENTITY", "3a9c5e1e-0000-4000-8000-0000000000ff"),
        ("COUNTERPART", ""),
        ("PAYABLE", "3a9c5e1e00004000800000000000002"),
    ],
)
def test_missing_and_malformed_identifiers_are_not_found_even_for_partners(
    token_for: Callable[[str], str], type_name: str, identifier: str
) -> None:
    assert outcome(token_for, PARTNER, type_name, identifier, Action.READ) == "404"


def test_not_found_reads_the_same_for_missing_and_unreadable(
    token_for: Callable[[str], str],
) -> None:
    messages = []
    for identifier in (COUNTERPART_TWO, "3a9c5e1e-0000-4000-8000-0000000000ff"):
        with pytest.raises(NotFound) as caught:
            selectors.open_target(
                principal=principal(token_for, ENTITY_USER),
                linkable=by_name("COUNTERPART"),
                identifier=identifier,
                action=Action.READ,
            )
        messages.append(caught.value.message)
    assert messages[0] == messages[1]


@pytest.mark.parametrize(
    ("scope", "allowed"),
    [(ENTITY_ONE, True), (ENTITY_TWO, False), ("not-a-uuid", False), (None, True)],
)
def test_entity_scope_limits_entity_owned_types(
    token_for: Callable[[str], str], scope: str | None, allowed: bool
) -> None:
    for type_name, identifier in (("COUNTERPART", COUNTERPART_ONE), ("ENTITY", ENTITY_ONE)):
        try:
            selectors.open_target(
                principal=principal(token_for, PARTNER),
                linkable=by_name(type_name),
                identifier=identifier,
                action=Action.READ,
                entity_scope=scope,
            )
            outcome_ = "ok"
        except NotFound:
            outcome_ = "404"
        assert outcome_ == ("ok" if allowed else "404"), type_name


def test_entity_scope_is_ignored_by_types_outside_entities(
    token_for: Callable[[str], str],
) -> None:
    target = selectors.open_target(
        principal=principal(token_for, SOME_TEST),
        linkable=by_name("ACCOUNT"),
        identifier="A-154321",
        action=Action.WRITE,
        entity_scope="not-a-uuid",
    )
    assert target.identifier == "A-154321"


def test_no_principal_is_not_authenticated(demo: None) -> None:
    with pytest.raises(NotAuthenticated):
        selectors.open_target(
            principal=None, linkable=by_name("ACCOUNT"), identifier="A-154321", action=Action.READ
        )


@pytest.mark.parametrize("identifier", ["A-154321", "A-000000"])
def test_a_deactivated_user_is_refused_before_the_object_is_looked_up(
    token_for: Callable[[str], str], identifier: str
) -> None:
    token = token_for(SOME_TEST)
    User.objects.filter(email=SOME_TEST).update(is_active=False)
    with pytest.raises(InvalidToken):
        selectors.open_target(
            principal=principal_from_header(f"JWT {token}"),
            linkable=by_name("ACCOUNT"),
            identifier=identifier,
            action=Action.READ,
        )


def test_a_deleted_user_is_refused(token_for: Callable[[str], str]) -> None:
    token = token_for(SOME_TEST)
    User.objects.filter(email=SOME_TEST).delete()
    with pytest.raises(InvalidToken):
        selectors.open_target(
            principal=principal_from_header(token),
            linkable=by_name("ACCOUNT"),
            identifier="A-154321",
            action=Action.READ,
        )
