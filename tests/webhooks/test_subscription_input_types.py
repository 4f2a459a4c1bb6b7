"""The subscription input takes JSON types exactly as the OpenAPI document states them.

Found by schemathesis (issue 23): `"is_active": {}` created an active subscription, and an
`event_types` that is not a list of strings was a 500. A boolean is `true`/`false` only, a
list is a list of the named event types, every refusal is a 422 that saves nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from metadata.models import WebhookSubscription
from tests.conftest import PARTNER
from tests.webhooks.test_subscriptions_api import BASE, call

URL = "https://hooks.example.com/metadata"
OBJECT_TYPE = "counterpart_partner_metadata"
NOT_BOOLEANS = ({}, [], "yes", "true", 1, 0, None, "on")
NOT_EVENT_LISTS = ([{}], [[]], [1], True, 1, "updated", {"a": "updated"}, [None])


@pytest.mark.parametrize("is_active", NOT_BOOLEANS, ids=repr)
def test_create_refuses_is_active_that_is_not_a_boolean(
    token_for: Callable[[str], str], is_active: Any
) -> None:
    body = {"url": URL, "object_type": OBJECT_TYPE, "is_active": is_active}
    response = call("post", BASE, token_for(PARTNER), body)
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"] == ["body", "is_active"]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("event_types", NOT_EVENT_LISTS, ids=repr)
def test_create_refuses_event_types_that_are_not_a_list_of_names(
    token_for: Callable[[str], str], event_types: Any
) -> None:
    body = {"url": URL, "object_type": OBJECT_TYPE, "event_types": event_types}
    response = call("post", BASE, token_for(PARTNER), body)
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"][:2] == ["body", "event_types"]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    "change",
    [{"is_active": value} for value in NOT_BOOLEANS]
    + [{"event_types": value} for value in NOT_EVENT_LISTS]
    + [{"url": 1}, {"object_type": ["account_metadata"]}],
    ids=repr,
)
def test_update_refuses_wrong_types_and_changes_nothing(
    token_for: Callable[[str], str], change: dict[str, Any]
) -> None:
    token = token_for(PARTNER)
    created = call("post", BASE, token, {"url": URL, "object_type": OBJECT_TYPE})
    assert created.status_code == 201, created.content
    path = f"{BASE}/{created.json()['id']}"
    response = call("patch", path, token, change)
    assert response.status_code == 422, response.content
    (field,) = change
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]
    assert call("get", path, token).json() == {
        key: value for key, value in created.json().items() if key != "secret"
    }


def test_unknown_members_are_refused_where_the_body_starts(
    token_for: Callable[[str], str],
) -> None:
    body = {"url": URL, "object_type": OBJECT_TYPE, "colour": "red"}
    response = call("post", BASE, token_for(PARTNER), body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "colour"]
    assert call("post", BASE, token_for(PARTNER), [body]).json()["detail"][0]["loc"] == ["body"]
