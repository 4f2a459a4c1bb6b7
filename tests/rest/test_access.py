"""Contract sections 3 and 11 through the REST door: every demo user and partner client against
every demo object."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from metadata.models import User
from tests.access import NONE, READ, WRITE, access_matrix
from tests.conftest import COUNTERPART_TWO, ENTITY_USER, PARTNER
from tests.rest.conftest import JSON, TokenFactory, body, url

pytestmark = pytest.mark.django_db

# The PUT sends a document that breaks a rule: rules are checked after access, so 422 proves
# the write was allowed without writing anything (valid writes are tested elsewhere). PATCH
# is the same write check (see test_errors' 403 and 404 tests).
EXPECTED = {
    # access: (GET, PUT)
    WRITE: (200, 422),
    READ: (200, 403),
    NONE: (404, 404),
}
INVALID = body({"": "an empty key breaks a rule"})


def test_the_access_matrix(token_for: TokenFactory) -> None:
    client = Client()
    tokens: dict[str, str] = {}
    checked = 0
    for email, linkable, identifier, access in access_matrix():
        token = tokens.setdefault(email, token_for(email))
        headers = {"Authorization": f"Bearer {token}"}
        path = url(linkable.collection, identifier)
        answers = (
            client.get(path, headers=headers).status_code,
            client.put(path, INVALID, content_type=JSON, headers=headers).status_code,
        )
        assert answers == EXPECTED[access], (email, linkable.name, identifier, access)
        checked += 1
    assert checked == 10 * 18  # 7 users and 3 clients x 18 objects (8 of them users)


def _access(token: str, collection: str, identifier: str) -> tuple[int, int]:
    """(GET, PUT of a rule-breaking body) statuses, as in `EXPECTED`."""
    client, headers = Client(), {"Authorization": f"Bearer {token}"}
    path = url(collection, identifier)
    return (
        client.get(path, headers=headers).status_code,
        client.put(path, INVALID, content_type=JSON, headers=headers).status_code,
    )


def test_the_permissions_count_when_held_directly_and_for_superusers(
    token_for: TokenFactory,
) -> None:
    """The demo grants them through groups; a user's own permissions and superusers count
    the same, and a change counts from the next request."""
    token = token_for(ENTITY_USER)
    user = User.objects.get(email=ENTITY_USER)
    assert _access(token, "counterparts", COUNTERPART_TWO) == EXPECTED[NONE]
    view = Permission.objects.get(content_type__app_label="metadata", codename="view_metadata")
    user.user_permissions.add(view)
    assert _access(token, "counterparts", COUNTERPART_TWO) == EXPECTED[READ]
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="metadata", codename="can_mutate_metadata")
    )
    assert _access(token, "counterparts", COUNTERPART_TWO) == EXPECTED[WRITE]
    user.user_permissions.clear()
    assert _access(token, "counterparts", COUNTERPART_TWO) == EXPECTED[NONE]
    User.objects.filter(pk=user.pk).update(is_superuser=True)
    assert _access(token, "counterparts", COUNTERPART_TWO) == EXPECTED[WRITE]


def test_permissions_created_again_by_another_process_are_found(
    token_for: TokenFactory,
) -> None:
    """Permissions are found by their codename in every statement: when another process
    creates them again (a `flush`, say) under new ids, the next request still finds them."""
    token = token_for(PARTNER)
    assert _access(token, "counterparts", COUNTERPART_TWO) == EXPECTED[WRITE]
    for codename in ("can_mutate_metadata", "view_metadata"):
        old = Permission.objects.get(content_type__app_label="metadata", codename=codename)
        new = old.pk + 1000
        # Queryset updates send no signals: what this process sees of another's change.
        Permission.objects.filter(pk=old.pk).update(id=new)
        Group.permissions.through.objects.filter(permission_id=old.pk).update(permission_id=new)
    assert _access(token, "counterparts", COUNTERPART_TWO) == EXPECTED[WRITE]
    lookup = Client().get(
        "/v1/counterparts/partner_metadata",
        {"key": "external_id"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert lookup.status_code == 200, lookup.content
