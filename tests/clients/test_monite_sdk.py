"""Issue 19: Monite's own Python SDK (PyPI `monite`, generated from Monite's OpenAPI) as a
partner's client of the REST door, against a live gunicorn.

The SDK's typed errors carry the raw body (`error.body`); the tests parse it into the SDK's
own models, as a partner's code would: `HttpValidationError.detail` for a 422 and
`ErrorSchemaResponse.error.message` for every refusal.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from monite import Monite
from monite.core.api_error import ApiError
from monite.errors import UnauthorizedError, UnprocessableEntityError
from monite.types import AccessTokenResponse, ErrorSchemaResponse, HttpValidationError

from metadata.models import Metadata
from tests.conftest import (
    COUNTERPART_ONE,
    COUNTERPART_TWO,
    ENTITY_ONE,
    ENTITY_USER_ID,
    PARTNER_CLIENT_ID,
    PARTNER_CLIENT_SECRET,
)
from tests.live import LiveServer

pytestmark = pytest.mark.live

MONITE_VERSION = "2024-05-25"
NESTED = {
    "external_id": "id_6c8f1262fdbc",
    "comment": "",
    "erp": {"system": "sap", "ids": [1, 2, {"deep": [None, True, 1.5]}], "empty": {}},
    "nothing": None,
    "ünïcode ключ": "värde",
}


def sdk(server: LiveServer, token: str | None = None, entity: str | None = None) -> Monite:
    return Monite(
        base_url=f"{server.url}/v1",
        monite_version=MONITE_VERSION,
        monite_entity_id=entity,
        token=token,
        timeout=30,
    )


def grant(server: LiveServer, **extra: Any) -> AccessTokenResponse:
    # A partner configures one client, entity header included, and logs in with it.
    return sdk(server, entity=ENTITY_ONE).access_tokens.create(
        client_id=PARTNER_CLIENT_ID, client_secret=PARTNER_CLIENT_SECRET, **extra
    )


@pytest.fixture
def partner(live_demo: LiveServer) -> Iterator[Monite]:
    """A partner's integration: a client_credentials token, scoped to Entity One."""
    answer = grant(live_demo, grant_type="client_credentials")
    yield sdk(live_demo, answer.access_token, ENTITY_ONE)


@pytest.fixture
def entity_user(live_demo: LiveServer) -> Iterator[Monite]:
    """Entity One's user, acting through the partner's entity_user grant."""
    answer = grant(live_demo, grant_type="entity_user", entity_user_id=ENTITY_USER_ID)
    yield sdk(live_demo, answer.access_token, ENTITY_ONE)


def error_message(body: Any) -> str:
    return ErrorSchemaResponse.model_validate(body).error.message


def test_access_tokens_create_with_both_grants(live_demo: LiveServer) -> None:
    answer = grant(live_demo, grant_type="client_credentials")
    assert isinstance(answer, AccessTokenResponse)
    assert (answer.token_type, answer.expires_in) == ("Bearer", 3600)
    partner = sdk(live_demo, answer.access_token, ENTITY_ONE)
    assert partner.entities.get_partner_metadata_by_id(ENTITY_ONE).metadata == {}

    answer = grant(live_demo, grant_type="entity_user", entity_user_id=ENTITY_USER_ID)
    assert (answer.token_type, answer.expires_in) == ("Bearer", 3600)
    user = sdk(live_demo, answer.access_token, ENTITY_ONE)
    assert user.entities.get_partner_metadata_by_id(ENTITY_ONE).metadata == {}


def test_entities_round_trip_with_nested_values_and_delete(partner: Monite) -> None:
    stored = partner.entities.update_partner_metadata_by_id(ENTITY_ONE, metadata=NESTED)
    assert stored.metadata == NESTED
    assert partner.entities.get_partner_metadata_by_id(ENTITY_ONE).metadata == NESTED
    assert Metadata.objects.filter(object_id=ENTITY_ONE).count() == len(NESTED)

    replaced = partner.entities.update_partner_metadata_by_id(
        ENTITY_ONE, metadata={"external_id": "id_2"}
    )
    assert replaced.metadata == {"external_id": "id_2"}

    deleted = partner.entities.update_partner_metadata_by_id(ENTITY_ONE, metadata={})
    assert deleted.metadata == {}
    assert partner.entities.get_partner_metadata_by_id(ENTITY_ONE).metadata == {}
    assert not Metadata.objects.filter(object_id=ENTITY_ONE).exists()


def test_counterparts_round_trip_as_an_entity_user(entity_user: Monite) -> None:
    counterparts = entity_user.counterparts
    assert counterparts.get_partner_metadata_by_id(COUNTERPART_ONE).metadata == {}
    stored = counterparts.update_partner_metadata_by_id(COUNTERPART_ONE, metadata=NESTED)
    assert stored.metadata == NESTED
    assert counterparts.get_partner_metadata_by_id(COUNTERPART_ONE).metadata == NESTED
    assert counterparts.update_partner_metadata_by_id(COUNTERPART_ONE, metadata={}).metadata == {}
    assert counterparts.get_partner_metadata_by_id(COUNTERPART_ONE).metadata == {}


def test_401_parses_into_the_sdks_error_schema(live_demo: LiveServer) -> None:
    stranger = sdk(live_demo, "not-a-token", ENTITY_ONE)
    with pytest.raises(UnauthorizedError) as raised:
        stranger.counterparts.get_partner_metadata_by_id(COUNTERPART_ONE)
    assert raised.value.status_code == 401
    assert error_message(raised.value.body)

    with pytest.raises(UnauthorizedError) as raised:
        sdk(live_demo, entity=ENTITY_ONE).entities.update_partner_metadata_by_id(
            ENTITY_ONE, metadata={"k": "v"}
        )
    assert error_message(raised.value.body)
    assert not Metadata.objects.exists()


def test_refused_credentials_parse_into_the_sdks_error_schema(live_demo: LiveServer) -> None:
    with pytest.raises(ApiError) as raised:
        sdk(live_demo).access_tokens.create(
            client_id=PARTNER_CLIENT_ID, client_secret="wrong", grant_type="client_credentials"
        )
    assert raised.value.status_code == 401
    assert error_message(raised.value.body)

    with pytest.raises(ApiError) as raised:
        grant(live_demo, grant_type="entity_user", entity_user_id=COUNTERPART_ONE)
    assert raised.value.status_code == 401
    assert error_message(raised.value.body)


def test_404_parses_into_the_sdks_error_schema(partner: Monite) -> None:
    # Counterpart Two belongs to Entity Two: outside the X-Monite-Entity-Id scope.
    with pytest.raises(ApiError) as outside:
        partner.counterparts.get_partner_metadata_by_id(COUNTERPART_TWO)
    with pytest.raises(ApiError) as missing:
        partner.counterparts.get_partner_metadata_by_id("3a9c5e1e-0000-4000-8000-00000000ffff")
    assert outside.value.status_code == missing.value.status_code == 404
    assert error_message(outside.value.body) == error_message(missing.value.body)

    with pytest.raises(ApiError) as raised:
        partner.counterparts.update_partner_metadata_by_id(COUNTERPART_TWO, metadata={"k": 1})
    assert raised.value.status_code == 404
    assert not Metadata.objects.exists()


def test_422_parses_into_the_sdks_validation_error(partner: Monite) -> None:
    too_big = {"blob": "x" * 2100}
    with pytest.raises(UnprocessableEntityError) as raised:
        partner.counterparts.update_partner_metadata_by_id(COUNTERPART_ONE, metadata=too_big)
    body = raised.value.body
    validation = HttpValidationError.model_validate(body)
    assert validation.detail, body
    (detail,) = validation.detail
    assert "2000" in detail.msg
    assert detail.loc[0] == "body"
    assert "2000" in error_message(body)

    with pytest.raises(UnprocessableEntityError) as raised:
        partner.counterparts.update_partner_metadata_by_id(COUNTERPART_ONE, metadata={"": 1})
    assert HttpValidationError.model_validate(raised.value.body).detail
    assert not Metadata.objects.exists()
