"""Webhook subscriptions in the admin (issue 11), through real pages: added, edited,
(de)activated and deleted by the service the REST door calls, whose rules are the form's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from metadata.models import (
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from metadata.webhooks import delivery, targets
from tests.admin.helpers import form_errors
from tests.admin.webhook_pages import (
    COUNTERPART_TYPE,
    FAST,
    PARTNER_URL,
    SUBSCRIPTIONS,
    change_page,
    message_texts,
    subscribe,
)
from tests.conftest import COUNTERPART_ONE
from tests.webhooks.receiver import Receiver

# Subscriptions: add, edit, deactivate, delete ---------------------------------------------


def test_add_form_creates_through_the_service_and_shows_the_secret_once(
    lead: Client, lead_user: User
) -> None:
    page = lead.get(f"{SUBSCRIPTIONS}add/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert [value for value, _ in form.fields["object_type"].choices][1:] == [
        "account_metadata",
        "account_user_metadata",
        "property_metadata",
        "entity_partner_metadata",
        "counterpart_partner_metadata",
        "payable_partner_metadata",
    ]
    assert "is_active" not in form.fields

    response = lead.post(
        f"{SUBSCRIPTIONS}add/",
        {
            "url": PARTNER_URL,
            "object_type": COUNTERPART_TYPE,
            "event_types": ["updated", "created"],
        },
        follow=True,
    )
    assert response.status_code == 200
    created = WebhookSubscription.objects.get()
    assert created.url == PARTNER_URL
    assert created.object_type == COUNTERPART_TYPE
    assert created.event_types == ["created", "updated"]
    assert created.is_active
    assert created.created_by == lead_user
    assert created.secret.startswith("whsec_")
    shown = [text for text in message_texts(response) if created.secret in text]
    assert len(shown) == 1 and "not shown again" in shown[0]
    assert response.content.decode().count(created.secret) == 1
    assert LogEntry.objects.filter(object_id=str(created.pk)).count() == 1

    # Never again: not on the change page (not even its last characters), not in the list.
    page = lead.get(change_page(created))
    html = page.content.decode()
    assert created.secret not in html
    assert f"…{created.secret[-4:]}" not in html
    assert created.secret not in lead.get(SUBSCRIPTIONS).content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"url": "ftp://partner.example.com/x"}, "url", targets.MSG_URL),
        ({"url": "partner.example.com/hooks"}, "url", targets.MSG_URL),
        ({"object_type": "invoice_metadata"}, "object_type", "object_type must be one of: "),
        ({"event_types": ["archived"]}, "event_types", "event_types must be a list drawn from"),
    ],
    ids=["scheme", "relative", "object_type", "event_type"],
)
def test_add_form_shows_the_service_rules_and_saves_nothing(
    lead: Client, data: dict[str, Any], field: str, message: str
) -> None:
    post = {"url": PARTNER_URL, "object_type": COUNTERPART_TYPE, **data}
    response = lead.post(f"{SUBSCRIPTIONS}add/", post)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert any(error.startswith(message) for error in form.errors[field]), form.errors
    assert WebhookSubscription.objects.count() == 0
    assert LogEntry.objects.count() == 0


def test_add_form_with_two_bad_fields_shows_both(lead: Client) -> None:
    response = lead.post(f"{SUBSCRIPTIONS}add/", {"url": "nope", "object_type": "nope"})
    assert response.status_code == 200
    errors = form_errors(response)
    assert targets.MSG_URL in errors
    assert any(e.startswith("object_type must be one of: account_metadata") for e in errors)
    assert WebhookSubscription.objects.count() == 0


def test_edit_and_deactivate_through_the_change_form(
    lead: Client, put: Callable[..., None], receiver: Receiver
) -> None:
    subscription = subscribe(receiver.url)
    secret = subscription.secret
    page = lead.get(change_page(subscription))
    assert page.status_code == 200
    assert page.context["adminform"].form.initial["is_active"] is True

    new_url = f"{receiver.url}/v2"
    response = lead.post(
        change_page(subscription),
        {"url": new_url, "object_type": COUNTERPART_TYPE, "event_types": ["deleted"], "_save": "1"},
    )  # is_active unchecked: deactivated
    assert response.status_code == 302, form_errors(response)
    subscription.refresh_from_db()
    assert (subscription.url, subscription.event_types) == (new_url, ["deleted"])
    assert subscription.is_active is False
    assert subscription.secret == secret

    # A bad edit shows the service's message and changes nothing.
    response = lead.post(
        change_page(subscription),
        {"url": "mailto:ops@example.com", "object_type": COUNTERPART_TYPE, "is_active": "on"},
    )
    assert response.status_code == 200
    assert targets.MSG_URL in form_errors(response)
    subscription.refresh_from_db()
    assert (subscription.url, subscription.is_active) == (new_url, False)

    # Deactivated: a change makes an event, but no delivery for this subscription.
    put("COUNTERPART", COUNTERPART_ONE, "external_id", "id_1")
    delivery.run_once(policy=FAST)
    assert WebhookEvent.objects.count() == 1
    assert WebhookDelivery.objects.count() == 0

    # The changelist actions go through the service too.
    response = lead.post(
        SUBSCRIPTIONS, {"action": "activate", "_selected_action": [str(subscription.pk)]}
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.is_active is True


def test_only_the_changed_fields_are_judged(lead: Client, lead_user: User) -> None:
    """A stored object type the service no longer offers stays until someone changes it:
    deactivating such a subscription saves; choosing another unknown type is refused."""
    subscription = subscribe()
    WebhookSubscription.objects.filter(pk=subscription.pk).update(object_type="retired_metadata")
    kept = {"url": PARTNER_URL, "object_type": "retired_metadata", "_save": "1"}

    response = lead.post(change_page(subscription), kept)  # is_active unchecked
    assert response.status_code == 302, form_errors(response)
    subscription.refresh_from_db()
    assert (subscription.object_type, subscription.is_active) == ("retired_metadata", False)
    assert LogEntry.objects.filter(object_id=str(subscription.pk)).count() == 1

    response = lead.post(change_page(subscription), {**kept, "object_type": "other_metadata"})
    assert response.status_code == 200
    assert any(e.startswith("object_type must be one of: ") for e in form_errors(response))
    subscription.refresh_from_db()
    assert subscription.object_type == "retired_metadata"


def test_delete_takes_the_delivery_log_with_it(lead: Client, failed: WebhookDelivery) -> None:
    subscription = failed.subscription
    confirm = lead.get(f"{SUBSCRIPTIONS}{subscription.pk}/delete/")
    assert confirm.status_code == 200
    assert not confirm.context["perms_lacking"]
    response = lead.post(f"{SUBSCRIPTIONS}{subscription.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not WebhookSubscription.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert not WebhookAttempt.objects.exists()
    assert WebhookEvent.objects.count() == 1  # the event stays: it happened
