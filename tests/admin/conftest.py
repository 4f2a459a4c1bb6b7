"""Fixtures for the admin tests: logged-in clients of the demo staff and metadata written
through the services (as the REST and GraphQL doors would)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from metadata import services
from metadata.linkables import by_name
from metadata.models import DeliveryStatus, Door, Metadata, User, WebhookDelivery
from metadata.principals import Principal
from metadata.selectors import find_target
from metadata.webhooks import delivery
from tests.admin.webhook_pages import FAST, ONE_TRY, subscribe
from tests.conftest import COUNTERPART_ONE, PARTNER, SUPPORT, SUPPORT_LEAD
from tests.webhooks.receiver import Receiver, receiver

__all__ = ["receiver"]  # the loopback webhook receiver, for the webhook admin tests


def client_for(email: str) -> Client:
    client = Client(enforce_csrf_checks=False)
    client.force_login(User.objects.get(email=email))
    return client


@pytest.fixture
def lead(demo: None) -> Client:
    """support.lead@example.com: staff with CAN_MUTATE_METADATA."""
    return client_for(SUPPORT_LEAD)


@pytest.fixture
def support(demo: None) -> Client:
    """support@example.com: staff who may view metadata, not change it."""
    return client_for(SUPPORT)


@pytest.fixture
def lead_user(demo: None) -> User:
    return User.objects.get(email=SUPPORT_LEAD)


def target(type_name: str, identifier: str) -> Any:
    partner = User.objects.get(email=PARTNER)
    found = find_target(
        linkable=by_name(type_name), identifier=identifier, principal=Principal.for_user(partner)
    )
    assert found is not None, (type_name, identifier)
    return found


@pytest.fixture
def put(demo: None) -> Callable[..., None]:
    """Write one key through the services as the partner's integration (the REST door)."""
    partner = User.objects.get(email=PARTNER)

    def write(type_name: str, identifier: str, key: str, value: Any) -> None:
        services.set_key(
            target=target(type_name, identifier),
            key=key,
            value=value,
            context=services.WriteContext(actor_id=partner.pk, door=Door.REST),
        )

    return write


@pytest.fixture
def external_id(put: Callable[..., None]) -> Metadata:
    """Two keys on COUNTERPART_ONE, written by the partner; the row of `external_id`."""
    put("COUNTERPART", COUNTERPART_ONE, "external_id", "id_6c8f1262fdbc")
    put("COUNTERPART", COUNTERPART_ONE, "comment", "")
    return Metadata.objects.get(key="external_id")


@pytest.fixture
def delivered(put: Callable[..., None], receiver: Receiver) -> WebhookDelivery:
    """One change written through the services, delivered by the worker to the receiver."""
    subscribe(receiver.url)
    put("COUNTERPART", COUNTERPART_ONE, "external_id", "id_1")
    assert delivery.run_once(policy=FAST) == 1
    receiver.wait_for(1)
    return WebhookDelivery.objects.get()


@pytest.fixture
def failed(put: Callable[..., None], receiver: Receiver) -> WebhookDelivery:
    """A delivery the receiver answered 500, with no attempts left."""
    subscribe(receiver.url)
    receiver.fail_next = 1
    put("COUNTERPART", COUNTERPART_ONE, "external_id", "id_1")
    assert delivery.run_once(policy=ONE_TRY) == 1
    row = WebhookDelivery.objects.get()
    assert (row.status, row.attempts, row.last_status_code) == (DeliveryStatus.FAILED, 1, 500)
    return row
