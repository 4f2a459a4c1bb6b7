"""Webhook subscriptions belong to their creator (contract section 11; issue 17, finding 4).

The attacker holds CAN_MUTATE_METADATA (they may create subscriptions) and wants another
owner's: to list them, re-target them to their own receiver, read their delivery log (the
events' payloads), redeliver, rotate their secret or delete them. Owners here: the partner's
person token, the same user's partner-client token, and the support lead's person token.
Each sees only its own; anything else answers exactly like an id that does not exist.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from metadata.models import (
    PartnerClient,
    User,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from metadata.tokens import access_token_for
from metadata.webhooks import delivery, subscriptions
from tests.conftest import (
    COUNTERPART_ONE,
    COUNTERPART_TWO,
    PARTNER,
    PARTNER_CLIENT_ID,
    PARTNER_CLIENT_TWO_ID,
    PROVISIONING_CLIENT_ID,
    SOME_TEST,
    SUPPORT_LEAD,
)
from tests.webhooks.receiver import Receiver, fast_policy, receiver

__all__ = ["receiver"]

BASE = "/v1/webhook_subscriptions"
MISSING = "00000000-0000-4000-8000-000000000000"
ONE_TRY = fast_policy(max_attempts=1)


def call(method: str, path: str, token: str, body: Any = None) -> Any:
    kwargs: dict[str, Any] = {"headers": {"Authorization": f"Bearer {token}"}}
    if body is not None:
        kwargs |= {"data": json.dumps(body), "content_type": "application/json"}
    return getattr(Client(), method)(path, **kwargs)


def client_token() -> str:
    """The partner client's `client_credentials` token (it names the client)."""
    client = PartnerClient.objects.get(pk=PARTNER_CLIENT_ID)
    return str(access_token_for(client.user, client=client))


@pytest.fixture
def owned(token_for: Callable[[str], str], receiver: Receiver) -> dict[str, Any]:
    """The partner's (person token) subscription, with one delivery in its log."""
    token = token_for(PARTNER)
    body = {"url": receiver.url, "object_type": "counterpart_partner_metadata"}
    created = call("post", BASE, token, body)
    assert created.status_code == 201, created.content
    response = call(
        "put",
        f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata",
        token,
        {"metadata": {"external_id": "id_1"}},
    )
    assert response.status_code == 200
    delivery.run_once(policy=ONE_TRY)
    subscription = created.json()
    subscription["delivery"] = str(WebhookDelivery.objects.get().pk)
    return subscription


def every_route(subscription_id: str, delivery_id: str) -> list[tuple[str, str, Any]]:
    one = f"{BASE}/{subscription_id}"
    return [
        ("get", one, None),
        ("patch", one, {"url": "https://attacker.example.net/steal"}),
        ("get", f"{one}/deliveries", None),
        ("post", f"{one}/deliveries/{delivery_id}/redeliver", None),
        ("post", f"{one}/rotate_secret", None),
        ("delete", one, None),
    ]


@pytest.mark.parametrize("who", ("support_lead", "partner_client"))
def test_another_owner_gets_404s_exactly_like_a_missing_id(
    who: str, owned: dict[str, Any], token_for: Callable[[str], str]
) -> None:
    token = token_for(SUPPORT_LEAD) if who == "support_lead" else client_token()
    before = WebhookSubscription.objects.values().get()
    delivery_before = WebhookDelivery.objects.values().get()
    assert call("get", BASE, token).json() == {"data": []}
    others = every_route(owned["id"], owned["delivery"])
    missing = every_route(MISSING, MISSING)
    for (method, path, body), (_, missing_path, _) in zip(others, missing, strict=True):
        answer = call(method, path, token, body)
        nothing = call(method, missing_path, token, body)
        assert answer.status_code == 404, (method, path, answer.content)
        assert answer.json() == nothing.json(), (method, path)
    assert WebhookSubscription.objects.values().get() == before
    assert WebhookDelivery.objects.values().get() == delivery_before


def test_the_owner_manages_its_own(owned: dict[str, Any], token_for: Callable[[str], str]) -> None:
    token = token_for(PARTNER)
    assert [s["id"] for s in call("get", BASE, token).json()["data"]] == [owned["id"]]
    for method, path, body in every_route(owned["id"], owned["delivery"]):
        answer = call(method, path, token, body)
        assert answer.status_code in (200, 204), (method, path, answer.content)


def test_a_client_token_and_its_users_person_token_are_different_owners(
    token_for: Callable[[str], str],
) -> None:
    body = {"url": "https://hooks.example.com/a", "object_type": "counterpart_partner_metadata"}
    by_client = call("post", BASE, client_token(), body).json()
    by_person = call("post", BASE, token_for(PARTNER), body).json()
    subscription = WebhookSubscription.objects.get(pk=by_client["id"])
    assert str(subscription.created_by_client_id) == PARTNER_CLIENT_ID
    assert WebhookSubscription.objects.get(pk=by_person["id"]).created_by_client_id is None
    listed = call("get", BASE, client_token()).json()["data"]
    assert [s["id"] for s in listed] == [by_client["id"]]
    listed = call("get", BASE, token_for(PARTNER)).json()["data"]
    assert [s["id"] for s in listed] == [by_person["id"]]


def test_events_go_only_to_owners_who_may_read_the_object(
    token_for: Callable[[str], str], receiver: Receiver
) -> None:
    """An account user's subscription gets its own account's events, not another's."""
    account_user = User.objects.get(email=SOME_TEST)  # reaches account A-154321 only
    subscriptions.create_subscription(
        url=receiver.url, object_type="account_metadata", actor_id=account_user.pk
    )
    partner = token_for(PARTNER)
    for account in ("A-12345", "A-154321"):
        response = call(
            "put", f"/v1/accounts/{account}/partner_metadata", partner, {"metadata": {"k": 1}}
        )
        assert response.status_code == 200
    delivery.run_once(policy=ONE_TRY)
    [received] = receiver.wait_for(1)
    assert received.payload["object"] == {"type": "ACCOUNT", "id": "A-154321"}
    assert WebhookEvent.objects.count() == 2
    assert WebhookDelivery.objects.count() == 1  # the other account's event: no trace


def test_an_event_the_owner_lost_access_to_before_delivery_is_not_delivered(
    token_for: Callable[[str], str], receiver: Receiver
) -> None:
    """Checked when the event is delivered, not only when it is fanned out."""
    account_user = User.objects.get(email=SOME_TEST)
    subscriptions.create_subscription(
        url=receiver.url, object_type="account_metadata", actor_id=account_user.pk
    )
    response = call(
        "put",
        "/v1/accounts/A-154321/partner_metadata",
        token_for(PARTNER),
        {"metadata": {"k": 1}},
    )
    assert response.status_code == 200
    delivery.dispatch_events()
    account_user.accounts.clear()  # removed from the account before the worker delivers
    delivery.run_once(policy=ONE_TRY)
    assert receiver.received == []
    assert not WebhookDelivery.objects.exists()


def test_a_subscription_without_an_owner_receives_nothing(
    token_for: Callable[[str], str], receiver: Receiver
) -> None:
    subscription = subscriptions.create_subscription(
        url=receiver.url, object_type="account_metadata", actor_id=None
    )
    assert subscription.created_by_id is None
    response = call(
        "put",
        "/v1/accounts/A-154321/partner_metadata",
        token_for(PARTNER),
        {"metadata": {"k": 1}},
    )
    assert response.status_code == 200
    delivery.run_once(policy=ONE_TRY)
    assert receiver.received == []


def test_a_partner_client_subscribes_and_hears_only_of_the_entities_it_serves(
    token_for: Callable[[str], str], receiver: Receiver
) -> None:
    """Tenancy and ownership together: client c2 serves Entity Two only; a change to Entity
    One's counterpart, which c2 may not read, never reaches c2's receiver."""
    c2 = token_for(PARTNER_CLIENT_TWO_ID)
    body = {"url": receiver.url, "object_type": "counterpart_partner_metadata"}
    created = call("post", BASE, c2, body)
    assert created.status_code == 201, created.content
    partner = token_for(PARTNER)
    for counterpart in (COUNTERPART_ONE, COUNTERPART_TWO):
        response = call(
            "put",
            f"/v1/counterparts/{counterpart}/partner_metadata",
            partner,
            {"metadata": {"k": 1}},
        )
        assert response.status_code == 200
    delivery.run_once(policy=ONE_TRY)
    [received] = receiver.wait_for(1)
    assert received.payload["object"] == {"type": "COUNTERPART", "id": COUNTERPART_TWO}
    assert WebhookDelivery.objects.count() == 1


def test_an_entity_user_may_not_keep_subscriptions(token_for: Callable[[str], str]) -> None:
    response = call("get", BASE, token_for(SOME_TEST))
    assert response.status_code == 403
    assert "partner clients" in response.json()["error"]["message"]


def test_a_provisioning_client_may_not_keep_subscriptions(demo: None) -> None:
    """It reaches no metadata (contract section 13), so it has no events to hear of."""
    client = PartnerClient.objects.get(pk=PROVISIONING_CLIENT_ID)
    token = str(access_token_for(client.user, client=client))
    assert call("get", BASE, token).status_code == 403
    body = {"url": "https://hooks.example.com/in", "object_type": "entity_partner_metadata"}
    assert call("post", BASE, token, body).status_code == 403
    assert not WebhookSubscription.objects.exists()
