"""A webhook's signing secret is shown once (contract section 11; issue 17, finding 1).

The attacker is view-only support staff (support@example.com) who wants a partner's
signing secret to forge events to the partner's receiver: by filtering the subscription
changelist on it (`?secret__startswith=` answers "match" or "no match": a bisection), by
searching, or by reading any admin page. And the REST API shows it only in the answers to
creation and rotation; rotation keeps the old secret signing for a stated grace period.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from metadata.models import PartnerClient, User, WebhookDelivery, WebhookSubscription
from metadata.webhooks import delivery, signing, subscriptions
from tests.conftest import COUNTERPART_ONE, PARTNER, PARTNER_CLIENT_ID, SUPPORT, SUPPORT_LEAD
from tests.webhooks.receiver import Receiver, fast_policy, receiver

__all__ = ["receiver"]

BASE = "/v1/webhook_subscriptions"
ADMIN = "/admin/metadata/webhooksubscription/"
DELIVERIES_ADMIN = "/admin/metadata/webhookdelivery/"
ONE_TRY = fast_policy(max_attempts=1)


def call(method: str, path: str, token: str, body: Any = None) -> Any:
    kwargs: dict[str, Any] = {"headers": {"Authorization": f"Bearer {token}"}}
    if body is not None:
        kwargs |= {"data": json.dumps(body), "content_type": "application/json"}
    return getattr(Client(), method)(path, **kwargs)


def staff(email: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


@pytest.fixture
def subscription(demo: None) -> WebhookSubscription:
    """A partner's subscription, rotated once so that it also holds a previous secret."""
    created = subscriptions.create_subscription(
        url="https://hooks.example.com/partner",
        object_type="counterpart_partner_metadata",
        actor_id=User.objects.get(email=PARTNER).pk,
    )
    return subscriptions.rotate_secret(subscription=created)


def secret_probes(subscription: WebhookSubscription) -> list[str]:
    secret, previous = subscription.secret, subscription.previous_secret
    return [
        f"secret__startswith={secret[:8]}",
        f"secret__startswith={secret[:7]}x",
        "secret__regex=^whsec_",
        f"secret={secret}",
        f"secret__exact={secret}",
        f"secret__contains={secret[8:12]}",
        f"secret__iregex=^{re.escape(secret[:9])}",
        f"secret__gt={secret[:8]}",
        f"previous_secret__startswith={previous[:8]}",
        "previous_secret__regex=^whsec_",
    ]


@pytest.mark.parametrize("who", (SUPPORT, SUPPORT_LEAD))
def test_staff_cannot_filter_subscriptions_by_secret(
    who: str, subscription: WebhookSubscription
) -> None:
    client = staff(who)
    assert client.get(ADMIN).status_code == 200
    for probe in secret_probes(subscription):
        response = client.get(f"{ADMIN}?{probe}")
        assert response.status_code == 400, (probe, response.status_code)  # Django's refusal
        assert subscription.url.encode() not in response.content


@pytest.mark.parametrize("who", (SUPPORT, SUPPORT_LEAD))
def test_staff_cannot_filter_deliveries_by_their_subscriptions_secret(
    who: str, subscription: WebhookSubscription
) -> None:
    client = staff(who)
    secret = subscription.secret
    for probe in (
        f"subscription__secret__startswith={secret[:8]}",
        "subscription__secret__regex=^whsec_",
        f"subscription__previous_secret__startswith={secret[:8]}",
    ):
        assert client.get(f"{DELIVERIES_ADMIN}?{probe}").status_code == 400, probe


def test_search_does_not_look_at_the_secret(subscription: WebhookSubscription) -> None:
    client = staff(SUPPORT)
    for term in (subscription.secret, subscription.secret[:12], subscription.previous_secret):
        response = client.get(ADMIN, {"q": term})
        assert response.status_code == 200
        assert subscription.url.encode() not in response.content


def test_no_admin_page_shows_any_part_of_a_secret(
    subscription: WebhookSubscription, token_for: Callable[[str], str]
) -> None:
    pages = (
        ADMIN,
        f"{ADMIN}{subscription.pk}/change/",
        f"{ADMIN}{subscription.pk}/history/",
        f"{ADMIN}{subscription.pk}/delete/",
        DELIVERIES_ADMIN,
        "/admin/metadata/webhookevent/",
    )
    for who in (SUPPORT, SUPPORT_LEAD):
        client = staff(who)
        for page in pages:
            response = client.get(page)
            assert response.status_code in (200, 403), (who, page, response.status_code)
            text = response.content.decode()
            for secret in (subscription.secret, subscription.previous_secret):
                assert secret[-12:] not in text, (who, page)
                assert f"…{secret[-4:]}" not in text, (who, page)  # no "last characters" hint


def test_the_rest_api_shows_the_secret_on_creation_and_rotation_only(
    token_for: Callable[[str], str],
) -> None:
    token = token_for(PARTNER)
    body = {"url": "https://hooks.example.com/a", "object_type": "counterpart_partner_metadata"}
    created = call("post", BASE, token, body)
    assert created.status_code == 201
    secret = created.json()["secret"]
    one = f"{BASE}/{created.json()['id']}"
    for answer in (
        call("get", BASE, token),
        call("get", one, token),
        call("patch", one, token, {"is_active": True}),
        call("get", f"{one}/deliveries", token),
    ):
        assert answer.status_code == 200
        assert "secret" not in answer.content.decode()
        assert secret[6:] not in answer.content.decode()
    rotated = call("post", f"{one}/rotate_secret", token)
    assert rotated.status_code == 200, rotated.content
    answer = rotated.json()
    assert answer["secret"].startswith("whsec_") and answer["secret"] != secret
    expires = datetime.fromisoformat(answer["previous_secret_expires_at"])
    assert timezone.now() < expires <= timezone.now() + timedelta(days=7)
    for answer_text in (call("get", one, token).content, call("get", BASE, token).content):
        assert rotated.json()["secret"][6:] not in answer_text.decode()


def readme_verify() -> Callable[[str, bytes, str], bool]:
    """The `verify` function the README gives receivers, as a receiver would copy it."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    [snippet] = re.findall(r"```python\n(import hashlib.*?def verify.*?)```", readme, re.S)
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)  # our own README, as a receiver would paste it
    return namespace["verify"]


def test_during_the_grace_period_deliveries_carry_both_signatures(
    token_for: Callable[[str], str], receiver: Receiver
) -> None:
    token = token_for(PARTNER)
    body = {"url": receiver.url, "object_type": "counterpart_partner_metadata"}
    created = call("post", BASE, token, body).json()
    old = created["secret"]
    new = call("post", f"{BASE}/{created['id']}/rotate_secret", token).json()["secret"]

    def put_and_deliver(value: int) -> Any:
        response = call(
            "put",
            f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata",
            token,
            {"metadata": {"k": value}},
        )
        assert response.status_code == 200
        delivery.run_once(policy=ONE_TRY)
        return receiver.received[-1]

    during = put_and_deliver(1)
    header = during.headers[signing.SIGNATURE_HEADER.lower()]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}", header), header
    for verify in (signing.verify, readme_verify()):
        assert verify(new, during.body, header)
        assert verify(old, during.body, header)  # a receiver not yet switched over
        assert not verify("whsec_other", during.body, header)
    WebhookSubscription.objects.update(previous_secret_expires_at=timezone.now())
    after = put_and_deliver(2)
    header = after.headers[signing.SIGNATURE_HEADER.lower()]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header), header
    for verify in (signing.verify, readme_verify()):
        assert verify(new, after.body, header)
        assert not verify(old, after.body, header)
    assert WebhookDelivery.objects.filter(status="delivered").count() == 2


def test_partner_client_secret_hashes_are_not_shown_or_filterable(demo: None) -> None:
    """The same for the partner clients' secret hashes, even for a superuser."""
    root = User.objects.create_superuser(email="root@example.com", password="x")
    client = Client()
    client.force_login(root)
    stored = PartnerClient.objects.get(pk=PARTNER_CLIENT_ID).secret_hash
    pages = "/admin/metadata/partnerclient/"
    assert client.get(pages).status_code == 200
    page = client.get(f"{pages}{PARTNER_CLIENT_ID}/change/")
    assert page.status_code == 200
    assert stored.split("$")[-1] not in page.content.decode()
    for probe in ("secret_hash__startswith=pbkdf2", "secret_hash__regex=^pbkdf2"):
        assert client.get(f"{pages}?{probe}").status_code == 400, probe
