"""Signed webhooks on every real change, delivered at least once (issue 11)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from metadata import selectors, services
from metadata.linkables import by_name
from metadata.models import (
    DeliveryStatus,
    Door,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from metadata.permissions import Action
from metadata.principals import Principal
from metadata.webhooks import delivery, signing, subscriptions
from tests.conftest import COUNTERPART_ONE, DEMO_FIXTURE, PARTNER, SUPPORT_LEAD
from tests.live import database_url
from tests.security.test_webhook_secrets import readme_verify
from tests.webhooks.receiver import LOOPBACK, Misbehave, Receiver, fast_policy

PROJECT_DIR = Path(__file__).resolve().parents[2]
FAST = fast_policy()
UPDATE = """
mutation updateMetadata($input: MetadataInput!) {
  updateMetadata(input: $input) { metadata { key value } }
}
"""


def subscribe(receiver: Receiver, object_type: str = "counterpart_partner_metadata"):
    partner = User.objects.get(email=PARTNER)
    return subscriptions.create_subscription(
        url=receiver.url, object_type=object_type, actor_id=partner.pk
    )


def put_counterpart(token: str, document: dict) -> None:
    response = Client().put(
        f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata",
        json.dumps({"metadata": document}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "X-Request-Id": "req-rest"},
    )
    assert response.status_code == 200, response.content


def drain(policy: delivery.Policy = FAST, rounds: int = 20) -> None:
    for _ in range(rounds):
        if (
            not delivery.run_once(policy=policy)
            and not WebhookEvent.objects.filter(dispatched_at__isnull=True).exists()
        ):
            if not WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists():
                return
            time.sleep(0.15)


def test_each_door_produces_one_signed_event(
    token_for: Callable[[str], str], receiver: Receiver
) -> None:
    subscription = subscribe(receiver)
    account_subscription = subscribe(receiver, "account_metadata")
    put_counterpart(token_for(PARTNER), {"external_id": "id_1"})
    Client().post(
        "/v1/graphql/",
        json.dumps(
            {
                "query": UPDATE,
                "variables": {
                    "input": {
                        "linkedObjectType": "ACCOUNT",
                        "identifier": "A-154321",
                        "key": "pet",
                        "value": '"dog"',
                    }
                },
            }
        ),
        content_type="application/json",
        headers={"Authorization": f"JWT {token_for(PARTNER)}"},
    )
    lead = User.objects.get(email=SUPPORT_LEAD)
    target = selectors.open_target(
        principal=Principal.for_user(lead),
        linkable=by_name("COUNTERPART"),
        identifier=COUNTERPART_ONE,
        action=Action.WRITE,
    )
    services.set_key(
        target=target,
        key="note",
        value="checked",
        context=services.WriteContext(actor_id=lead.pk, door=Door.ADMIN, request_id="req-admin"),
    )
    drain()
    posted = receiver.wait_for(3)
    by_door = {r.payload["door"]: r for r in posted}
    assert set(by_door) == {"rest", "graphql", "admin"}
    rest = by_door["rest"].payload
    assert rest["object"] == {"type": "COUNTERPART", "id": COUNTERPART_ONE}
    assert rest["object_type"] == "counterpart_partner_metadata"
    assert rest["event_type"] == "created"
    assert rest["request_id"] == "req-rest"
    assert rest["actor_id"] == str(User.objects.get(email=PARTNER).pk)
    assert rest["changes"] == [
        {
            "key": "external_id",
            "existed_before": False,
            "old_value": None,
            "exists_after": True,
            "new_value": "id_1",
        }
    ]
    assert by_door["admin"].payload["event_type"] == "updated"
    assert by_door["graphql"].payload["object"] == {"type": "ACCOUNT", "id": "A-154321"}
    secrets = {
        "rest": subscription.secret,
        "admin": subscription.secret,
        "graphql": account_subscription.secret,
    }
    verify = readme_verify()  # what a receiver runs, not the module that signs
    for door, received in by_door.items():
        header = received.headers[signing.SIGNATURE_HEADER.lower()]
        assert verify(secrets[door], received.body, header)
        assert not verify("whsec_wrong", received.body, header)
        assert not verify(secrets[door], received.body + b" ", header)


def test_no_event_for_a_no_op_or_refused_write(
    token_for: Callable[[str], str], receiver: Receiver
) -> None:
    subscribe(receiver)
    token = token_for(PARTNER)
    put_counterpart(token, {"a": 1})
    put_counterpart(token, {"a": 1})
    response = Client().put(
        f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata",
        json.dumps({"metadata": {"a": "x" * 3000}}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    assert WebhookEvent.objects.count() == 1
    drain()
    assert len(receiver.wait_for(1)) == 1


def test_retries_with_backoff_after_the_receiver_fails_twice(
    token_for: Callable[[str], str], receiver: Receiver
) -> None:
    subscribe(receiver)
    receiver.fail_next = 2
    put_counterpart(token_for(PARTNER), {"a": 1})
    drain()
    receiver.wait_for(1)
    [sent] = WebhookDelivery.objects.all()
    assert (sent.status, sent.attempts) == (DeliveryStatus.DELIVERED, 3)
    assert [a.status_code for a in WebhookAttempt.objects.order_by("started_at")] == [500, 500, 200]
    assert [r.headers["x-answered"] for r in receiver.received] == ["500", "500", "200"]


def test_a_delivery_that_keeps_failing_is_given_up_and_can_be_redelivered(
    token_for: Callable[[str], str], receiver: Receiver
) -> None:
    subscribe(receiver)
    receiver.fail_next = FAST.max_attempts
    put_counterpart(token_for(PARTNER), {"a": 1})
    drain()
    [failed] = WebhookDelivery.objects.all()
    assert (failed.status, failed.attempts) == (DeliveryStatus.FAILED, FAST.max_attempts)
    subscriptions.redeliver(delivery=failed)
    drain()
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.DELIVERED


def test_subscriptions_filter_by_event_type_and_only_see_later_events(
    token_for: Callable[[str], str], receiver: Receiver
) -> None:
    token = token_for(PARTNER)
    put_counterpart(token, {"before": 1})  # before any subscription: never delivered
    subscription = subscribe(receiver)
    subscriptions.update_subscription(subscription=subscription, event_types=["deleted"])
    put_counterpart(token, {"a": 1})
    put_counterpart(token, {})
    drain()
    [received] = receiver.wait_for(1)
    assert received.payload["event_type"] == "deleted"


def worker(*, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "deliver_webhooks", "--poll", "0.1"],
        cwd=PROJECT_DIR,
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "REQUEST_LOG": "false",
            "WEBHOOK_ALLOWED_NETWORKS": LOOPBACK,  # the test receiver, allowed by name
            **env,
        },
    )


@pytest.fixture
def committed(django_db_reset_sequences: None) -> None:
    call_command("loaddata", str(DEMO_FIXTURE), verbosity=0)


def committed_changes(count: int) -> None:
    partner = User.objects.get(email=PARTNER)
    target = selectors.open_target(
        principal=Principal.for_user(partner),
        linkable=by_name("COUNTERPART"),
        identifier=COUNTERPART_ONE,
        action=Action.WRITE,
    )
    context = services.WriteContext(actor_id=partner.pk, door=Door.REST)
    for i in range(count):
        services.set_key(target=target, key=f"k{i}", value=i, context=context)


def test_a_worker_killed_with_its_post_in_flight_leaves_the_delivery_to_another(
    committed: None, receiver: Receiver
) -> None:
    """The receiver holds the first POST open and tells the test it arrived; the worker is
    SIGKILLed right then, mid-request. Nothing was recorded, the dead worker's lease runs
    out, and a second worker delivers the same event (same id, a valid signature)."""
    subscription = subscribe(receiver)
    committed_changes(1)
    receiver.then(Misbehave(hold=True))
    short_lease = {"WEBHOOK_LEASE_SECONDS": "2", "WEBHOOK_TIMEOUT_SECONDS": "60"}
    first = worker(env=short_lease)
    try:
        assert receiver.arrived.wait(timeout=60), "the first worker never posted"
        first.send_signal(signal.SIGKILL)  # the POST is in flight, held by the receiver
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    receiver.release.set()
    [orphan] = WebhookDelivery.objects.all()
    assert (orphan.status, orphan.attempts) == (DeliveryStatus.PENDING, 0)
    assert orphan.leased_until is not None  # the dead worker's claim, left to expire
    assert not WebhookAttempt.objects.exists()
    second = worker(env=short_lease)
    try:
        deadline = time.monotonic() + 60
        while not WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).exists():
            assert time.monotonic() < deadline, "the second worker never delivered"
            time.sleep(0.1)
    finally:
        second.terminate()
        second.wait(timeout=10)
    [sent] = WebhookDelivery.objects.all()
    assert (sent.status, sent.attempts, sent.last_status_code) == (DeliveryStatus.DELIVERED, 1, 200)
    [attempt] = WebhookAttempt.objects.all()
    assert attempt.started_at >= orphan.leased_until  # only once the dead worker's lease ran out
    assert len(receiver.received) == 2  # at least once: the held POST, then the redelivery
    ids = {r.headers[signing.EVENT_ID_HEADER.lower()] for r in receiver.received}
    assert ids == {str(sent.event_id)}
    verify = readme_verify()
    for received in receiver.received:
        assert received.payload["changes"][0]["key"] == "k0"
        header = received.headers[signing.SIGNATURE_HEADER.lower()]
        assert verify(subscription.secret, received.body, header)


def test_two_workers_never_deliver_one_event_twice(committed: None, receiver: Receiver) -> None:
    subscribe(receiver)
    committed_changes(40)
    workers = [worker(env={}), worker(env={})]
    try:
        delivered = receiver.wait_for(40, timeout=60)
        time.sleep(1.0)  # let a duplicate, if any, arrive
    finally:
        for process in workers:
            process.terminate()
        for process in workers:
            process.wait(timeout=10)
    counts = Counter(r.headers[signing.EVENT_ID_HEADER.lower()] for r in receiver.successes())
    assert len(delivered) == len(counts) == 40
    assert set(counts.values()) == {1}
    assert WebhookSubscription.objects.count() == 1
