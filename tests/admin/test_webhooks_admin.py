"""Webhook subscriptions and their delivery log in the admin (issue 11), through real pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.test import Client

from metadata.models import (
    DeliveryStatus,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from metadata.webhooks import delivery, subscriptions, targets
from tests.admin.conftest import client_for
from tests.admin.helpers import form_errors
from tests.conftest import COUNTERPART_ONE, COUNTERPART_TWO, PARTNER
from tests.webhooks.receiver import Receiver, fast_policy

SUBSCRIPTIONS = "/admin/metadata/webhooksubscription/"
DELIVERIES = "/admin/metadata/webhookdelivery/"
EVENTS = "/admin/metadata/webhookevent/"
COUNTERPART_TYPE = "counterpart_partner_metadata"
PARTNER_URL = "https://partner.example.com/hooks/metadata"
FAST = fast_policy()
ONE_TRY = fast_policy(max_attempts=1)  # the first failure is final


def subscribe(url: str = PARTNER_URL, **fields: Any) -> WebhookSubscription:
    fields.setdefault("object_type", COUNTERPART_TYPE)
    partner = User.objects.get(email=PARTNER)
    return subscriptions.create_subscription(url=url, actor_id=partner.pk, **fields)


def change_page(subscription: WebhookSubscription) -> str:
    return f"{SUBSCRIPTIONS}{subscription.pk}/change/"


def delivery_page(row: WebhookDelivery) -> str:
    return f"{DELIVERIES}{row.pk}/change/"


def message_texts(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def rows(response: Any) -> list[Any]:
    return list(response.context["cl"].result_list)


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


# The delivery log ---------------------------------------------------------------------------


def test_delivery_log_after_a_real_change(lead: Client, delivered: WebhookDelivery) -> None:
    response = lead.get(DELIVERIES)
    assert response.status_code == 200
    [row] = rows(response)
    assert row.pk == delivered.pk
    html = response.content.decode()
    assert f"COUNTERPART {COUNTERPART_ONE}" in html
    assert COUNTERPART_TYPE in html
    assert "Delivered" in html
    assert lead.get(DELIVERIES, {"status__exact": "failed"}).context["cl"].result_count == 0
    filtered = lead.get(DELIVERIES, {"subscription__id__exact": str(delivered.subscription_id)})
    assert rows(filtered) == [row]
    assert rows(lead.get(DELIVERIES, {"q": COUNTERPART_ONE[-6:]})) == [row]
    assert rows(lead.get(DELIVERIES, {"q": COUNTERPART_TWO})) == []

    page = lead.get(delivery_page(delivered))
    assert page.status_code == 200
    html = page.content.decode()
    assert "&quot;new_value&quot;: &quot;id_1&quot;" in html  # the payload, pretty-printed
    [attempts] = [i for i in page.context["inline_admin_formsets"]]
    [attempt] = [form.original for form in attempts]
    assert attempt.status_code == 200 and attempt.error == ""
    assert 'name="_save"' not in html
    assert 'value="Redeliver"' in html
    assert f"{EVENTS}{delivered.event_id}/change/" in html

    # The subscription links to its deliveries, with counts by status.
    subscription_page = lead.get(change_page(delivered.subscription)).content.decode()
    link = f"{DELIVERIES}?subscription__id__exact={delivered.subscription_id}"
    assert link in subscription_page
    listed = lead.get(SUBSCRIPTIONS)
    [subscription] = rows(listed)
    assert (subscription.admin_delivered, subscription.admin_pending) == (1, 0)
    assert f"{link}&amp;status__exact=delivered" in listed.content.decode()

    # The event, read-only with its payload, links back to its deliveries.
    event_page = lead.get(f"{EVENTS}{delivered.event_id}/change/")
    assert event_page.status_code == 200
    assert "&quot;door&quot;: &quot;rest&quot;" in event_page.content.decode()
    assert f"{DELIVERIES}?event__id__exact={delivered.event_id}" in event_page.content.decode()
    assert rows(lead.get(DELIVERIES, {"event__id__exact": str(delivered.event_id)})) == [row]


def test_redeliver_action_queues_a_failed_delivery_and_the_next_run_delivers_it(
    lead: Client, failed: WebhookDelivery, receiver: Receiver
) -> None:
    response = lead.post(
        DELIVERIES, {"action": "redeliver", "_selected_action": [str(failed.pk)]}, follow=True
    )
    assert response.status_code == 200
    assert any("1 delivery queued again" in text for text in message_texts(response))
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.PENDING
    assert LogEntry.objects.filter(object_id=str(failed.pk)).count() == 1

    assert delivery.run_once(policy=FAST) == 1
    receiver.wait_for(1)
    failed.refresh_from_db()
    # One more attempt: redelivering does not reset the retry budget.
    assert (failed.status, failed.attempts, failed.last_status_code) == ("delivered", 2, 200)
    assert failed.log.count() == 2  # the failed attempt stays in the log
    page = lead.get(delivery_page(failed))
    [attempts] = page.context["inline_admin_formsets"]
    assert [form.original.status_code for form in attempts] == [200, 500]


def test_redeliver_button_on_the_delivery_page(
    lead: Client, delivered: WebhookDelivery, receiver: Receiver
) -> None:
    """A receiver that lost a delivered event asks for it again."""
    url = f"{DELIVERIES}{delivered.pk}/redeliver/"
    assert lead.get(url).status_code == 405
    response = lead.post(url)
    assert response.status_code == 302
    assert response["Location"] == delivery_page(delivered)
    delivered.refresh_from_db()
    assert delivered.status == DeliveryStatus.PENDING
    delivery.run_once(policy=FAST)
    assert len(receiver.wait_for(2)) == 2
    missing = f"{DELIVERIES}00000000-0000-4000-8000-000000000000/redeliver/"
    assert lead.post(missing).status_code == 404


# Who may do what ----------------------------------------------------------------------------


def test_support_views_read_only(support: Client, failed: WebhookDelivery) -> None:
    subscription = failed.subscription
    listed = support.get(SUBSCRIPTIONS)
    assert listed.status_code == 200
    html = listed.content.decode()
    assert subscription.url in html
    assert f"{SUBSCRIPTIONS}add/" not in html
    assert 'name="action"' not in html

    page = support.get(change_page(subscription))
    assert page.status_code == 200
    html = page.content.decode()
    assert subscription.secret not in html
    assert 'name="_save"' not in html
    assert 'name="url"' not in html
    assert '<div class="readonly">all</div>' in html  # event types: none chosen means all

    deliveries = support.get(DELIVERIES)
    assert rows(deliveries) == [failed]
    assert 'name="action"' not in deliveries.content.decode()
    page = support.get(delivery_page(failed)).content.decode()
    assert "Redeliver" not in page
    assert support.get(f"{EVENTS}{failed.event_id}/change/").status_code == 200


@pytest.mark.parametrize(
    ("path", "data"),
    [
        (f"{SUBSCRIPTIONS}add/", {"url": PARTNER_URL, "object_type": COUNTERPART_TYPE}),
        (
            f"{SUBSCRIPTIONS}{{subscription}}/change/",
            {"url": "https://evil.example.com/", "object_type": COUNTERPART_TYPE},
        ),
        (f"{SUBSCRIPTIONS}{{subscription}}/delete/", {"post": "yes"}),
        (f"{DELIVERIES}{{delivery}}/redeliver/", {}),
        (f"{DELIVERIES}", {"action": "redeliver", "_selected_action": ["{delivery}"]}),
        (f"{SUBSCRIPTIONS}", {"action": "deactivate", "_selected_action": ["{subscription}"]}),
        (
            f"{SUBSCRIPTIONS}",
            {"action": "delete_selected", "_selected_action": ["{subscription}"], "post": "yes"},
        ),
    ],
    ids=["add", "change", "delete", "redeliver", "redeliver-action", "deactivate", "bulk-delete"],
)
def test_support_cannot_change_or_redeliver(
    support: Client, failed: WebhookDelivery, path: str, data: dict[str, Any]
) -> None:
    """Refused with 403; the changelists offer support no action to run at all (200)."""
    ids = {"subscription": failed.subscription_id, "delivery": failed.pk}
    url = failed.subscription.url
    data = {
        name: [item.format(**ids) for item in value] if isinstance(value, list) else value
        for name, value in data.items()
    }
    response = support.post(path.format(**ids), data)
    assert response.status_code == (200 if path in (SUBSCRIPTIONS, DELIVERIES) else 403)
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.FAILED
    subscription = WebhookSubscription.objects.get()
    assert (subscription.url, subscription.is_active) == (url, True)
    assert LogEntry.objects.count() == 0


@pytest.mark.parametrize(
    "path",
    [
        f"{EVENTS}add/",
        f"{DELIVERIES}add/",
        f"{EVENTS}{{event}}/delete/",
        f"{DELIVERIES}{{delivery}}/delete/",
    ],
)
def test_nobody_adds_or_removes_events_or_deliveries(
    lead: Client, failed: WebhookDelivery, path: str
) -> None:
    url = path.format(event=failed.event_id, delivery=failed.pk)
    assert lead.get(url).status_code == 403
    assert lead.post(url, {"post": "yes"}).status_code == 403
    assert WebhookEvent.objects.count() == WebhookDelivery.objects.count() == 1


def test_nobody_changes_an_event_or_a_delivery(lead: Client, failed: WebhookDelivery) -> None:
    for page in (f"{EVENTS}{failed.event_id}/change/", delivery_page(failed)):
        assert lead.get(page).status_code == 200
        assert lead.post(page, {"status": "delivered", "_save": "1"}).status_code == 403
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.FAILED


def test_staff_without_metadata_permissions_see_no_webhooks(
    demo: None, failed: WebhookDelivery
) -> None:
    User.objects.create_user("intern@example.com", "intern-password-1", is_staff=True)
    client = client_for("intern@example.com")
    for path in (SUBSCRIPTIONS, DELIVERIES, EVENTS, delivery_page(failed)):
        assert client.get(path).status_code == 403
    assert client.post(f"{DELIVERIES}{failed.pk}/redeliver/").status_code == 403


# Cost -------------------------------------------------------------------------------------


def test_delivery_list_of_50_rows_costs_a_bounded_number_of_queries(
    lead: Client, put: Callable[..., None], django_assert_max_num_queries: Any
) -> None:
    """Five subscriptions x ten changes: event, subscription and counts come with the rows."""
    for i in range(5):
        subscribe(f"https://partner{i}.example.com/hooks")
    for i in range(10):
        put("COUNTERPART", COUNTERPART_ONE, f"key_{i}", i)
    delivery.dispatch_events()
    assert WebhookDelivery.objects.count() == 50

    lead.get(DELIVERIES)  # content types and the session are warm, as in steady use
    with django_assert_max_num_queries(8):
        response = lead.get(DELIVERIES)
    assert len(rows(response)) == 50
    assert {f"COUNTERPART {COUNTERPART_ONE}"} == {
        f"{r.admin_object_name} {r.admin_object_id}" for r in rows(response)
    }
    with django_assert_max_num_queries(8):
        assert len(rows(lead.get(DELIVERIES, {"status__exact": "pending"}))) == 50
    with django_assert_max_num_queries(8):
        listed = lead.get(SUBSCRIPTIONS)
    assert [s.admin_pending for s in rows(listed)] == [10] * 5
    with django_assert_max_num_queries(8):
        assert len(rows(lead.get(EVENTS))) == 10
