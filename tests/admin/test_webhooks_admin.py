"""The webhook change events and delivery log in the admin (issue 11), through real pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from metadata.models import (
    DeliveryStatus,
    User,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from metadata.webhooks import delivery
from tests.admin.conftest import client_for
from tests.admin.webhook_pages import (
    COUNTERPART_TYPE,
    DELIVERIES,
    EVENTS,
    FAST,
    PARTNER_URL,
    SUBSCRIPTIONS,
    change_page,
    delivery_page,
    message_texts,
    rows,
    subscribe,
)
from tests.conftest import COUNTERPART_ONE, COUNTERPART_TWO
from tests.webhooks.receiver import Receiver

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
