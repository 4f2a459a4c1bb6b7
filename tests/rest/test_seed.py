"""The Monite seed's curl calls, unchanged but for URL and token (Django test client)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import COUNTERPART_ONE, ENTITY_ONE, ENTITY_USER, PARTNER
from tests.rest.conftest import TokenFactory

pytestmark = pytest.mark.django_db

PATH = f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata"
SEED_BODY = """{
"metadata": {
"external_id": "id_6c8f1262fdbc",
"comment": ""
}
}"""
SEED_DOCUMENT = {"external_id": "id_6c8f1262fdbc", "comment": ""}


@pytest.mark.parametrize("email", [PARTNER, ENTITY_USER])
def test_set_get_and_delete_as_the_seed_shows(token_for: TokenFactory, email: str) -> None:
    client = Client()
    headers = {"X-Monite-Entity-Id": ENTITY_ONE, "Authorization": token_for(email)}

    # curl -X PUT '.../partner_metadata' -H 'X-Monite-Entity-Id: ...' -H 'Authorization: ...'
    #   -H 'Content-Type: application/json' -d '{"metadata": {...}}'
    put = client.put(PATH, SEED_BODY, content_type="application/json", headers=headers)
    assert put.status_code == 200, put.content
    assert put.json() == {"metadata": SEED_DOCUMENT}

    # curl '.../partner_metadata' -H 'X-Monite-Entity-Id: ...' -H 'Authorization: ...'
    get = client.get(PATH, headers=headers)
    assert get.status_code == 200
    assert get.json() == {"metadata": SEED_DOCUMENT}
    assert get["X-Monite-Entity-Id"] == ENTITY_ONE

    # curl -X PUT ... -d '{"metadata": {}}'
    delete = client.put(PATH, '{"metadata": {}}', content_type="application/json", headers=headers)
    assert delete.status_code == 200
    assert delete.json() == {"metadata": {}}
    assert client.get(PATH, headers=headers).json() == {"metadata": {}}
