"""What the webhook admin tests share: their pages and a subscription made by the partner
(the deliveries made by the worker are fixtures, in the conftest)."""

from __future__ import annotations

from typing import Any

from django.contrib.messages import get_messages

from metadata.models import User, WebhookDelivery, WebhookSubscription
from metadata.webhooks import subscriptions
from tests.conftest import PARTNER
from tests.webhooks.receiver import fast_policy

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
