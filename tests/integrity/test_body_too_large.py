"""A body over its limit is refused with 413 before any door reads it, in the door's format.

The refusal is made once, by the body size middleware, which knows no door: each door's own
answer is registered in the settings (`BODY_SIZE_DOORS`), and a path of no door is answered
in plain text.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from metadata.rules import MAX_BODY_BYTES
from tests.conftest import COUNTERPART_ONE

REST_PATH = f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata"
TOO_LARGE = b" " * (MAX_BODY_BYTES + 1)


def post(path: str, body: bytes = TOO_LARGE, content_type: str = "application/json") -> Any:
    return Client().generic("POST", path, body, content_type=content_type)


@pytest.mark.django_db
def test_rest_answers_in_its_error_json() -> None:
    response = post(REST_PATH)
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "payload_too_large"
    assert str(MAX_BODY_BYTES) in response.json()["error"]["message"]


@pytest.mark.django_db
def test_graphql_answers_in_its_envelope_with_its_code() -> None:
    response = post("/v1/graphql/")
    assert response.status_code == 413
    payload = response.json()
    assert payload["data"] is None
    (error,) = payload["errors"]
    assert error["extensions"]["errorCode"] == "KT-CT-8417"
    assert error["extensions"]["errorType"] == "VALIDATION"
    assert str(MAX_BODY_BYTES) in error["message"]
    assert "error" not in payload


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/login/", "/healthz"])
def test_the_admin_and_operations_answer_in_plain_text(path: str) -> None:
    response = post(path, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")
    assert str(MAX_BODY_BYTES) in response.content.decode()


@pytest.mark.django_db
def test_a_body_within_the_limit_reaches_the_door() -> None:
    response = post("/admin/login/", b"username=x", "application/x-www-form-urlencoded")
    assert response.status_code != 413


@pytest.mark.django_db
def test_the_middleware_has_no_format_of_its_own_for_a_door() -> None:
    """Without the doors' registrations, a REST path is a path of no door: the REST format
    comes from the REST door, not from the middleware."""
    with override_settings(BODY_SIZE_DOORS=()):
        response = post(REST_PATH)
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_a_door_declares_the_larger_limits_of_its_routes() -> None:
    """The batch route's 256 KiB is the REST door's; without it the route has 64 KiB."""
    batch = "/v1/counterparts/partner_metadata"
    assert post(batch).status_code != 413
    rest_alone = (("/v1/", "metadata.rest.errors.body_too_large", None),)
    with override_settings(BODY_SIZE_DOORS=rest_alone):
        assert post(batch).status_code == 413
