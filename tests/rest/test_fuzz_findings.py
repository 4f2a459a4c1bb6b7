"""Server-side findings of the schemathesis run (issue 23), each pinned by a plain test.

The fuzzer found them once the document's examples led it to real objects; these tests
keep them fixed without a live server.
"""

from __future__ import annotations

import pytest

from tests.conftest import ENTITY_ONE, ENTITY_TWO, PARTNER
from tests.rest.conftest import ApiFactory, body, url

pytestmark = pytest.mark.django_db

ENTITIES = "/v1/entities/partner_metadata"


def test_an_entity_lookup_scoped_by_x_monite_entity_id_answers(api_as: ApiFactory) -> None:
    """Was a 500: the scope of an entity is the entity itself (its primary key)."""
    api = api_as(PARTNER)
    api.put(url("entities", ENTITY_ONE), body({"external_id": "e1"}))
    api.put(url("entities", ENTITY_TWO), body({"external_id": "e2"}))
    response = api.get(ENTITIES, {"key": "external_id"}, **{"X-Monite-Entity-Id": ENTITY_ONE})
    assert response.status_code == 200, response.content
    assert [item["id"] for item in response.json()["data"]] == [ENTITY_ONE]
