"""The core's per-caller rate limit through the REST door: 429 with Retry-After.

The limit counts in fixed windows; the tests use hour-long ones, so a test is most unlikely
to straddle the end of one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.conftest import COUNTERPART_ONE, DEMO_PASSWORD, PARTNER, SOME_TEST
from tests.rest.conftest import JSON, ApiFactory, assert_error, url

pytestmark = pytest.mark.django_db


def test_a_caller_past_their_rate_gets_429(api_as: ApiFactory, settings: Any) -> None:
    settings.GATEWAY_THROTTLE_RATES = {**settings.GATEWAY_THROTTLE_RATES, "user": "2/hour"}
    partner, other = api_as(PARTNER), api_as(SOME_TEST)
    path = url("counterparts", COUNTERPART_ONE)
    assert [partner.get(path).status_code for _ in range(2)] == [200, 200]
    refused = partner.get(path)
    payload = assert_error(refused, 429, "throttled")
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert refused["Retry-After"] in payload["error"]["message"]
    assert other.get(url("accounts", "A-154321")).status_code == 200  # budgets are per caller


def test_token_requests_are_counted_per_address(demo: None, settings: Any) -> None:
    settings.GATEWAY_THROTTLE_RATES = {**settings.GATEWAY_THROTTLE_RATES, "anonymous": "1/hour"}
    grant = json.dumps({"email": SOME_TEST, "password": f"wrong-{DEMO_PASSWORD}"})
    assert Client().post("/v1/auth/token", grant, content_type=JSON).status_code == 401
    refused = Client().post("/v1/auth/token", grant, content_type=JSON)
    assert_error(refused, 429, "throttled")
    assert refused["Retry-After"]
