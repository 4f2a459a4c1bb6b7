"""Contract section 3 through the REST door: every demo user against every demo object."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.access import NONE, READ, WRITE, access_matrix
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
    assert checked > 40
