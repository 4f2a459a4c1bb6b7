"""What the webhook admin pages share: links between them, JSON columns, type filters."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.db import models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from metadata.admin.values import pretty_json
from metadata.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from metadata.webhooks.events import EVENT_TYPES, object_types

STATUSES = (DeliveryStatus.DELIVERED, DeliveryStatus.PENDING, DeliveryStatus.FAILED)


def admin_url(model: type[models.Model], view: str, *args: Any, **query: Any) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)
    return f"{url}?{urlencode(query)}" if query else url


def deliveries_url(**query: Any) -> str:
    return admin_url(WebhookDelivery, "changelist", **query)


def json_text(field: str, *keys: str) -> KeyTextTransform:
    """A key path inside a JSON column, as text."""
    expression: Any = field
    for key in keys[:-1]:
        expression = KeyTransform(key, expression)
    return KeyTextTransform(keys[-1], expression)


def event_text(*keys: str) -> Subquery:
    """A key path of a delivery's event payload, as a subquery, so that the changelist's
    count stays a plain count of deliveries (an annotation through the join would not)."""
    event = WebhookEvent.objects.filter(pk=OuterRef("event_id")).order_by()
    return Subquery(event.values(value=json_text("payload", *keys))[:1])


def delivery_count(**filters: Any) -> Coalesce:
    """Deliveries matching `filters` (with OuterRef), counted in a subquery per row.

    Row by row, so the changelist's own count query does not scan the delivery table.
    """
    deliveries = WebhookDelivery.objects.filter(**filters).order_by()
    counted = deliveries.values(*filters).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted[:1]), 0)


def payload_block(payload: Any) -> str:
    return format_html(
        '<pre class="webhook-payload" style="margin:0;white-space:pre;overflow:auto;'
        'max-height:40em">{}</pre>',
        pretty_json(payload),
    )


class ObjectTypeFilter(admin.SimpleListFilter):
    """The object types of the registry (`events.object_types()`), with no query."""

    title = "object type"
    parameter_name = "object_type"
    field = "object_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(name, name) for name in object_types()]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        value = self.value()
        return queryset.filter(**{self.field: value}) if value else queryset


class EventObjectTypeFilter(ObjectTypeFilter):
    field = "event__object_type"


class EventTypeFilter(admin.SimpleListFilter):
    """created, updated, deleted (`events.EVENT_TYPES`), with no query."""

    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(name, name) for name in EVENT_TYPES]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        value = self.value()
        return queryset.filter(event_type=value) if value else queryset
