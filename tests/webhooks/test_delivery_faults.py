"""Webhook delivery when the receiver misbehaves (issue 20), against a real loopback receiver.

Each fault is injected by the receiver (`tests.webhooks.receiver.Misbehave`) or by pointing
the subscription at a port nobody listens on; deliveries run through the delivery functions
(`claim_due`, `deliver`) so each attempt can be examined as it is recorded. Signatures are
checked with the README's own `verify` snippet, run verbatim, as a receiver would paste it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from metadata.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription
from metadata.webhooks import delivery, signing
from metadata.webhooks.delivery import Policy
from tests.live import free_port
from tests.security.test_webhook_secrets import readme_verify
from tests.webhooks.receiver import Misbehave, Receiver
from tests.webhooks.test_webhooks import committed_changes, subscribe

POLICY = Policy(
    timeout_seconds=1,
    lease_seconds=30,
    base_backoff_seconds=0.2,
    max_backoff_seconds=0.8,
    max_attempts=6,
    backoff_jitter=0.5,
)
WAIT_SECONDS = 30

pytestmark = pytest.mark.usefixtures("demo")


def one_event(receiver: Receiver, url: str | None = None) -> WebhookSubscription:
    """A subscription, one committed change, and its delivery dispatched."""
    subscription = subscribe(receiver)
    if url is not None:
        WebhookSubscription.objects.filter(pk=subscription.pk).update(url=url)
    committed_changes(1)
    assert delivery.dispatch_events() == 1
    return subscription


def the_delivery() -> WebhookDelivery:
    [only] = WebhookDelivery.objects.all()
    return only


def attempt_once(policy: Policy = POLICY) -> tuple[WebhookDelivery, WebhookAttempt, datetime]:
    """Claim the delivery once it is due and attempt it: the delivery and attempt recorded,
    and when `deliver` returned (by the clock the gateway records with)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not (claimed := delivery.claim_due(batch=1, policy=policy)):
        assert time.monotonic() < deadline, "the delivery never became due"
        time.sleep(0.02)
    [claimed_one] = claimed
    delivery.deliver(claimed_one, policy=policy)
    returned = timezone.now()
    last = WebhookAttempt.objects.filter(delivery=claimed_one).order_by("-started_at").first()
    assert last is not None
    return the_delivery(), last, returned


def assert_retry_scheduled(sent: WebhookDelivery, attempts: int) -> None:
    assert sent.status == DeliveryStatus.PENDING
    assert sent.attempts == attempts
    assert sent.leased_until is None
    assert sent.next_attempt_at > timezone.now() - timedelta(seconds=5)


def test_a_receiver_refusing_connections_is_retried(receiver: Receiver) -> None:
    one_event(receiver, url=f"http://127.0.0.1:{free_port()}/hook")  # nothing listens there
    sent, attempt, _ = attempt_once()
    assert attempt.status_code is None
    assert attempt.error == "ConnectionError: the receiver could not be reached"
    assert_retry_scheduled(sent, 1)
    assert sent.last_error == attempt.error


def test_a_receiver_that_times_out_is_retried(receiver: Receiver) -> None:
    one_event(receiver)
    receiver.then(Misbehave(delay=POLICY.timeout_seconds * 3))
    sent, attempt, _ = attempt_once()
    assert attempt.status_code is None
    assert attempt.error == "ReadTimeout: the receiver could not be reached"
    assert_retry_scheduled(sent, 1)
    assert len(receiver.received) == 1


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_not_followed_and_counts_as_a_failure(
    receiver: Receiver, status: int
) -> None:
    one_event(receiver)
    receiver.then(Misbehave(status=status, location=receiver.url.replace("/hook", "/elsewhere")))
    sent, attempt, _ = attempt_once()
    assert [r.path for r in receiver.received] == ["/hook"]  # nothing went to /elsewhere
    assert (attempt.status_code, attempt.error) == (status, f"the receiver answered {status}")
    assert_retry_scheduled(sent, 1)


@pytest.mark.parametrize("status", [400, 404, 410, 500, 502, 503])
def test_an_error_status_is_retried_with_the_same_event_id_and_a_valid_signature(
    receiver: Receiver, status: int
) -> None:
    subscription = one_event(receiver)
    receiver.then(Misbehave(status=status), Misbehave(status=status))
    statuses = [attempt_once()[1].status_code for _ in range(3)]
    assert statuses == [status, status, 200]
    assert the_delivery().status == DeliveryStatus.DELIVERED
    assert [r.headers["x-answered"] for r in receiver.received] == [str(status)] * 2 + ["200"]
    event_ids = {r.headers[signing.EVENT_ID_HEADER.lower()] for r in receiver.received}
    assert event_ids == {str(the_delivery().event_id)}
    verify = readme_verify()
    for received in receiver.received:
        header = received.headers[signing.SIGNATURE_HEADER.lower()]
        assert verify(subscription.secret, received.body, header)
        assert not verify(subscription.secret, received.body + b" ", header)


def test_a_slow_body_does_not_hold_the_worker(receiver: Receiver) -> None:
    """The status line is the answer: the worker does not wait for a body trickled one byte
    at a time (each byte within the read timeout, so a timeout alone never ends it)."""
    one_event(receiver)
    chunks = 8
    receiver.then(Misbehave(body_chunks=chunks, chunk_delay=POLICY.timeout_seconds / 2))
    sent, attempt, _ = attempt_once()
    assert not receiver.body_sent.is_set()  # deliver returned while the body still trickled
    assert (sent.status, attempt.status_code, attempt.error) == (DeliveryStatus.DELIVERED, 200, "")


def test_retries_follow_the_documented_backoff_within_the_jitter_bounds(
    receiver: Receiver,
) -> None:
    """Attempt n failing schedules attempt n+1 after base * 2**(n-1) seconds (at most the
    maximum), shortened by up to the jitter fraction; each attempt starts no earlier than
    scheduled. Measured on the timestamps the gateway records, not on how fast it runs."""
    one_event(receiver)
    receiver.then(*[Misbehave(status=500)] * POLICY.max_attempts)
    scheduled_at: datetime | None = None
    for number in range(1, POLICY.max_attempts + 1):
        sent, attempt, returned = attempt_once()
        if scheduled_at is not None:
            assert attempt.started_at >= scheduled_at
        if number == POLICY.max_attempts:
            assert (sent.status, sent.attempts) == (DeliveryStatus.FAILED, number)
            break
        nominal = min(POLICY.base_backoff_seconds * 2 ** (number - 1), POLICY.max_backoff_seconds)
        assert attempt.duration_ms is not None
        finished = attempt.started_at + timedelta(milliseconds=attempt.duration_ms)
        earliest = finished + timedelta(seconds=nominal * (1 - POLICY.backoff_jitter))
        latest = returned + timedelta(seconds=nominal)
        assert earliest <= sent.next_attempt_at <= latest, (number, nominal)
        scheduled_at = sent.next_attempt_at
    assert WebhookAttempt.objects.count() == POLICY.max_attempts


def test_the_jitter_spreads_retries_within_its_bounds() -> None:
    """Many deliveries failing together must not all come back at the same instant."""
    for attempts in (1, 3, 10):
        nominal = min(POLICY.base_backoff_seconds * 2 ** (attempts - 1), POLICY.max_backoff_seconds)
        delays = {POLICY.backoff(attempts).total_seconds() for _ in range(200)}
        assert all(nominal * (1 - POLICY.backoff_jitter) <= d <= nominal for d in delays)
        assert len(delays) > 100


def test_no_jitter_means_exactly_the_exponential_schedule() -> None:
    exact = Policy(**{**POLICY.__dict__, "backoff_jitter": 0.0})
    assert [exact.backoff(n).total_seconds() for n in range(1, 5)] == [0.2, 0.4, 0.8, 0.8]


@pytest.mark.parametrize("jitter", [-0.1, 1.5])
def test_a_jitter_outside_zero_to_one_is_refused(jitter: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        Policy(**{**POLICY.__dict__, "backoff_jitter": jitter})


@pytest.mark.parametrize("when", ["after dispatch", "after the claim"])
def test_a_subscription_deactivated_before_delivery_gets_nothing(
    receiver: Receiver, when: str
) -> None:
    subscription = one_event(receiver)
    deactivate: Callable[[], object] = lambda: WebhookSubscription.objects.filter(  # noqa: E731
        pk=subscription.pk
    ).update(is_active=False)
    if when == "after dispatch":
        deactivate()
        assert delivery.run_once(policy=POLICY) == 0
    else:
        [claimed] = delivery.claim_due(batch=1, policy=POLICY)
        deactivate()
        assert delivery.deliver(claimed, policy=POLICY) is False
    assert receiver.received == []
    assert not WebhookAttempt.objects.exists()
    left = the_delivery()
    assert (left.status, left.attempts, left.leased_until) == (DeliveryStatus.PENDING, 0, None)


def test_a_worker_whose_lease_expired_cannot_overwrite_the_newer_outcome(
    receiver: Receiver,
) -> None:
    """Worker A claims, stalls past its lease; worker B claims and delivers. A's late
    failure must not turn B's success back into a pending retry."""
    one_event(receiver)
    short = Policy(**{**POLICY.__dict__, "lease_seconds": 0.2})
    [first] = delivery.claim_due(batch=1, policy=short)
    deadline = time.monotonic() + WAIT_SECONDS
    while not (again := delivery.claim_due(batch=1, policy=POLICY)):  # A's lease runs out
        assert time.monotonic() < deadline
        time.sleep(0.05)
    [second] = again
    assert second.pk == first.pk and second.leased_until != first.leased_until
    assert delivery.deliver(second, policy=POLICY) is True
    receiver.then(Misbehave(status=500))
    delivery.deliver(first, policy=POLICY)  # the stale worker's attempt, answered 500
    sent = the_delivery()
    assert (sent.status, sent.attempts, sent.last_status_code) == (
        DeliveryStatus.DELIVERED,
        1,
        200,
    )
    # The late attempt happened and is in the log, but it decided nothing.
    assert sorted(a.status_code for a in WebhookAttempt.objects.all()) == [200, 500]


def test_a_stale_worker_finishing_first_leaves_the_delivery_to_the_lease_holder(
    receiver: Receiver,
) -> None:
    one_event(receiver)
    short = Policy(**{**POLICY.__dict__, "lease_seconds": 0.2})
    [first] = delivery.claim_due(batch=1, policy=short)
    deadline = time.monotonic() + WAIT_SECONDS
    while not (again := delivery.claim_due(batch=1, policy=POLICY)):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    [second] = again
    receiver.then(Misbehave(status=500))
    delivery.deliver(first, policy=POLICY)  # stale, fails: must not release B's lease
    held = the_delivery()
    assert (held.attempts, held.leased_until) == (0, second.leased_until)
    assert delivery.claim_due(batch=1, policy=POLICY) == []  # nobody else may take it now
    assert delivery.deliver(second, policy=POLICY) is True
    assert (the_delivery().status, the_delivery().attempts) == (DeliveryStatus.DELIVERED, 1)
