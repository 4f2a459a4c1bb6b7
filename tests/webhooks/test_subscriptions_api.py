"""`/v1/webhook_subscriptions` over the REST door (issue 11): manage, see the log, redeliver."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.test import Client

from metadata.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from metadata.webhooks import delivery
from tests.conftest import COUNTERPART_ONE, PARTNER, SOME_TEST, SUPPORT
from tests.webhooks.receiver import Receiver, fast_policy

BASE = "/v1/webhook_subscriptions"
FAST = fast_policy(max_attempts=1)


def call(method: str, path: str, token: str, body: Any = None) -> Any:
    client = Client()
    kwargs: dict[str, Any] = {"headers": {"Authorization": f"Bearer {token}"}}
    if body is not None:
        kwargs |= {"data": json.dumps(body), "content_type": "application/json"}
    return getattr(client, method)(path, **kwargs)


def subscribe(token: str, url: str, **fields: Any) -> Any:
    """POST a subscription to counterpart metadata events for `url`."""
    body = {"url": url, "object_type": "counterpart_partner_metadata", **fields}
    return call("post", BASE, token, body)


def test_create_read_update_delete(token_for: Callable[[str], str], receiver: Receiver) -> None:
    token = token_for(PARTNER)
    created = subscribe(token, receiver.url, event_types=["updated"])
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["secret"] == WebhookSubscription.objects.get().secret
    path = f"{BASE}/{body['id']}"
    read = call("get", path, token).json()
    assert "secret" not in read
    assert read["event_types"] == ["updated"] and read["is_active"] is True
    assert [s["id"] for s in call("get", BASE, token).json()["data"]] == [body["id"]]
    changed = call("patch", path, token, {"is_active": False, "event_types": []})
    assert changed.status_code == 200
    assert (changed.json()["is_active"], changed.json()["event_types"]) == (False, [])
    assert call("delete", path, token).status_code == 204
    assert call("get", path, token).status_code == 404


def test_bad_input_is_422_and_saves_nothing(token_for: Callable[[str], str]) -> None:
    token = token_for(PARTNER)
    for body in (
        {"url": "ftp://x", "object_type": "counterpart_partner_metadata"},
        {"url": "https://example.com/hook", "object_type": "nope"},
        {
            "url": "https://example.com/hook",
            "object_type": "account_metadata",
            "event_types": ["exploded"],
        },
        {"url": "https://example.com/hook", "object_type": "account_metadata", "extra": 1},
        [1, 2],
    ):
        response = call("post", BASE, token, body)
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["msg"]
    assert WebhookSubscription.objects.count() == 0
    assert call("get", f"{BASE}/not-a-uuid", token).status_code == 404


def test_only_callers_with_can_mutate_metadata_may_manage(
    token_for: Callable[[str], str],
) -> None:
    for email in (SOME_TEST, SUPPORT):
        response = call("get", BASE, token_for(email))
        assert response.status_code == 403
        assert "CAN_MUTATE_METADATA" in response.json()["error"]["message"]
    assert Client().get(BASE).status_code == 401


def test_delivery_log_and_redeliver(token_for: Callable[[str], str], receiver: Receiver) -> None:
    token = token_for(PARTNER)
    subscription = subscribe(token, receiver.url).json()
    receiver.fail_next = 1
    response = call(
        "put",
        f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata",
        token,
        {"metadata": {"external_id": "id_1"}},
    )
    assert response.status_code == 200
    delivery.run_once(policy=FAST)
    log = call("get", f"{BASE}/{subscription['id']}/deliveries", token).json()["data"]
    assert [(d["status"], d["last_status_code"]) for d in log] == [("failed", 500)]
    assert log[0]["event"]["changes"][0]["key"] == "external_id"
    assert [a["status_code"] for a in log[0]["attempts_log"]] == [500]
    again = call("post", f"{BASE}/{subscription['id']}/deliveries/{log[0]['id']}/redeliver", token)
    assert again.status_code == 200 and again.json()["status"] == "pending"
    delivery.run_once(policy=FAST)
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED
    missing = f"{BASE}/{subscription['id']}/deliveries/not-a-uuid/redeliver"
    assert call("post", missing, token).status_code == 404
