"""`/v1/webhook_subscriptions`: partners manage their change-event endpoints (Monite-shaped).

Thin over `metadata.webhooks.subscriptions`; every call needs a partner client's token or
CAN_MUTATE_METADATA (asked of the one permission object, `check_subscriber`). A subscription
belongs to its creator, the caller's person and partner client (contract section 11): every
route below reaches only the caller's own, and another owner's id answers exactly as a
missing one. A subscription's secret is in the answers to its creation and to
`rotate_secret` only.
"""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from metadata.errors import NotFound
from metadata.models import WebhookDelivery, WebhookSubscription
from metadata.permissions import metadata_permission
from metadata.rest.base import GatewayAPIView
from metadata.rest.parsers import StrictJSONParser
from metadata.rest.permissions import MetadataPermission
from metadata.rest.schema_answers import errors
from metadata.rest.serializers import EnvelopeSerializer, StrictBooleanField, StrictCharField
from metadata.webhooks import subscriptions
from metadata.webhooks.events import EVENT_TYPES, object_types
from metadata.webhooks.targets import MAX_URL_LENGTH, URL_TAIL

MSG_NO_DELIVERY = "No such delivery for this subscription."
DELIVERY_PAGE = 100
TAGS = ["Webhook subscriptions"]


class SubscriptionSerializer(serializers.ModelSerializer):
    object_type = serializers.ChoiceField(choices=object_types())
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES))

    class Meta:
        model = WebhookSubscription
        fields = ("id", "url", "object_type", "event_types", "is_active", "created_at")


class CreatedSubscriptionSerializer(SubscriptionSerializer):
    secret = serializers.CharField(help_text="The signing secret: shown in this answer only.")

    class Meta(SubscriptionSerializer.Meta):
        fields = (*SubscriptionSerializer.Meta.fields, "secret")


class RotatedSecretSerializer(SubscriptionSerializer):
    secret = serializers.CharField(help_text="The new signing secret: shown in this answer only.")
    previous_secret_expires_at = serializers.DateTimeField(
        help_text=(
            "Until then deliveries carry a second signature made with the previous secret "
            "(`X-Gateway-Signature: t=...,v1=<new>,v1=<old>`), so receivers can switch over."
        )
    )

    class Meta(SubscriptionSerializer.Meta):
        fields = (*SubscriptionSerializer.Meta.fields, "secret", "previous_secret_expires_at")


class SubscriptionListSerializer(serializers.Serializer):
    data = SubscriptionSerializer(many=True)


# What the service accepts (contract section 11), as JSON Schema: https only (the gateway's
# production setting, DEBUG off), a DNS name whose last label starts with a letter (so no IP
# literal in any notation, and never `localhost`), an optional port, then a path or query of
# URI characters, no fragment (`targets.URL_TAIL`: the service refuses anything else there).
# The service also takes public IP literals; the document promises only names.
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_NOT_LOCALHOST = "(?![Ll][Oo][Cc][Aa][Ll][Hh][Oo][Ss][Tt](?:[:/?]|$))"
_TOP_LABEL = f"{_NOT_LOCALHOST}[A-Za-z](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?"
WEBHOOK_URL_PATTERN = f"^https://(?:{_LABEL}\\.)+{_TOP_LABEL}(?::[0-9]{{1,4}})?{URL_TAIL}$"


@extend_schema_field(
    {
        "type": "string",
        "maxLength": MAX_URL_LENGTH,
        "pattern": WEBHOOK_URL_PATTERN,
        "description": (
            "Where events are POSTed: an https URL of a public host (when the gateway runs "
            "with DEBUG off; http too with DEBUG on). A host that is, or resolves at delivery "
            "time to, a loopback, private, link-local, unique-local, multicast or unspecified "
            "address, or localhost, is refused: at creation with 422 when it is such a literal "
            "address or localhost, at delivery as a failed attempt."
        ),
        "example": "https://hooks.example.com/metadata",
    }
)
class WebhookURLField(StrictCharField):
    """The target URL: a JSON string here; `metadata.webhooks.targets` judges it."""


class SubscriptionInputSerializer(EnvelopeSerializer):
    """A subscription as sent: exactly these members (others are 422), each of its JSON type
    (a boolean is `true` or `false`, a list a list); the service judges the values."""

    url = WebhookURLField(trim_whitespace=False)
    object_type = serializers.ChoiceField(choices=object_types())
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES),
        required=False,
        help_text="The events to receive; empty (the default) means all of them.",
    )
    is_active = StrictBooleanField(required=False, help_text="false pauses deliveries.")


class AttemptSerializer(serializers.Serializer):
    started_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField(
        allow_null=True, help_text="null when the target address was refused"
    )
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(
        help_text='"target address not allowed" when the URL resolved to a non-public address'
    )


class DeliverySerializer(serializers.ModelSerializer):
    # Declared, not derived: a model field's range depends on the database and would make
    # the schema differ between SQLite and PostgreSQL.
    attempts = serializers.IntegerField(min_value=0)
    last_status_code = serializers.IntegerField(allow_null=True)
    event = serializers.JSONField(source="event.payload")
    attempts_log = AttemptSerializer(source="log", many=True)

    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "event",
            "attempts_log",
        )


class DeliveryListSerializer(serializers.Serializer):
    data = DeliverySerializer(many=True)


def _fields(request: Request, *, partial: bool = False) -> dict[str, Any]:
    """The members of the body, each of its JSON type; 422 for anything else."""
    sent = SubscriptionInputSerializer(data=request.data, partial=partial)
    sent.is_valid(raise_exception=True)
    return dict(sent.validated_data)


class WebhookView(GatewayAPIView):
    permission_classes = (MetadataPermission,)
    parser_classes = (StrictJSONParser,)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        metadata_permission.check_subscriber(request.user)

    def subscription(self, subscription_id: str) -> WebhookSubscription:
        """One of the caller's own subscriptions (404 for any other id)."""
        return subscriptions.get_subscription(
            subscription_id=subscription_id, owner=self.request.user
        )


class SubscriptionsView(WebhookView):
    http_method_names = ("get", "post")

    @extend_schema(
        tags=TAGS,
        summary="List the caller's webhook subscriptions",
        operation_id="list_webhook_subscriptions",
        description="Only the subscriptions the caller (person, and partner client) created.",
        responses={200: SubscriptionListSerializer, **errors(401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        rows = subscriptions.owned_by(request.user).order_by("-created_at")
        return Response({"data": SubscriptionSerializer(rows, many=True).data})

    @extend_schema(
        tags=TAGS,
        summary="Create a webhook subscription",
        operation_id="create_webhook_subscription",
        description=(
            "The subscription belongs to the caller (person, and partner client). The answer "
            "holds the signing secret; it is never shown again. The url must be https (when "
            "the gateway runs with DEBUG off) and point to a public address."
        ),
        request=SubscriptionInputSerializer,
        responses={
            201: CreatedSubscriptionSerializer,
            **errors(400, 401, 403, 413, 415, 422, 429),
        },
    )
    def post(self, request: Request) -> Response:
        fields = _fields(request)
        subscription = subscriptions.create_subscription(
            url=fields.get("url"),
            object_type=fields.get("object_type"),
            event_types=fields.get("event_types"),
            actor_id=request.user.user_id,
            client_id=request.user.client_id,
        )
        if fields.get("is_active") is False:
            subscriptions.update_subscription(subscription=subscription, is_active=False)
        answer = CreatedSubscriptionSerializer(subscription).data
        return Response(answer, status=status.HTTP_201_CREATED)


class SubscriptionView(WebhookView):
    http_method_names = ("get", "patch", "delete")

    @extend_schema(
        tags=TAGS,
        summary="Read a webhook subscription",
        operation_id="get_webhook_subscription",
        responses={200: SubscriptionSerializer, **errors(401, 403, 404, 429)},
    )
    def get(self, request: Request, subscription_id: str) -> Response:
        return Response(SubscriptionSerializer(self.subscription(subscription_id)).data)

    @extend_schema(
        tags=TAGS,
        summary="Change a webhook subscription",
        operation_id="update_webhook_subscription",
        request=SubscriptionInputSerializer(partial=True),
        responses={
            200: SubscriptionSerializer,
            **errors(400, 401, 403, 404, 413, 415, 422, 429),
        },
    )
    def patch(self, request: Request, subscription_id: str) -> Response:
        subscription = self.subscription(subscription_id)
        subscriptions.update_subscription(
            subscription=subscription, **_fields(request, partial=True)
        )
        return Response(SubscriptionSerializer(subscription).data)

    @extend_schema(
        tags=TAGS,
        summary="Delete a webhook subscription",
        operation_id="delete_webhook_subscription",
        responses={
            204: OpenApiResponse(description="Deleted, with its delivery log."),
            **errors(401, 403, 404, 429),
        },
    )
    def delete(self, request: Request, subscription_id: str) -> Response:
        subscriptions.delete_subscription(subscription=self.subscription(subscription_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveriesView(WebhookView):
    http_method_names = ("get",)

    @extend_schema(
        tags=TAGS,
        summary="A subscription's delivery log (newest first, 100 at most)",
        operation_id="list_webhook_deliveries",
        responses={200: DeliveryListSerializer, **errors(401, 403, 404, 429)},
    )
    def get(self, request: Request, subscription_id: str) -> Response:
        subscription = self.subscription(subscription_id)
        rows = (
            subscription.deliveries.select_related("event")
            .prefetch_related("log")
            .order_by("-created_at")[:DELIVERY_PAGE]
        )
        return Response({"data": DeliverySerializer(rows, many=True).data})


class RotateSecretView(WebhookView):
    http_method_names = ("post",)

    @extend_schema(
        tags=TAGS,
        summary="Rotate a webhook subscription's signing secret",
        operation_id="rotate_webhook_secret",
        description=(
            "Answers the new secret, shown in this answer only. Until "
            "`previous_secret_expires_at` the previous secret signs deliveries too: "
            "`X-Gateway-Signature: t=...,v1=<new>,v1=<old>`."
        ),
        request=None,
        responses={200: RotatedSecretSerializer, **errors(401, 403, 404, 429)},
    )
    def post(self, request: Request, subscription_id: str) -> Response:
        subscription = subscriptions.rotate_secret(subscription=self.subscription(subscription_id))
        return Response(RotatedSecretSerializer(subscription).data)


class RedeliverView(WebhookView):
    http_method_names = ("post",)

    @extend_schema(
        tags=TAGS,
        summary="Deliver an event again",
        operation_id="redeliver_webhook",
        description=(
            "Queues a delivered or failed delivery for one more attempt now; a pending one is "
            "left to its retry schedule. The retry budget is not reset."
        ),
        request=None,
        responses={200: DeliverySerializer, **errors(401, 403, 404, 429)},
    )
    def post(self, request: Request, subscription_id: str, delivery_id: str) -> Response:
        subscription = self.subscription(subscription_id)
        try:
            key = uuid.UUID(delivery_id)
        except ValueError as error:
            raise NotFound(MSG_NO_DELIVERY) from error
        delivery = subscription.deliveries.select_related("event").filter(pk=key).first()
        if delivery is None:
            raise NotFound(MSG_NO_DELIVERY)
        return Response(DeliverySerializer(subscriptions.redeliver(delivery=delivery)).data)
