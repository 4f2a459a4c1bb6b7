"""The change events in the admin: what the outbox recorded, read-only."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.db.models import OuterRef
from django.http import HttpRequest
from django.utils.html import format_html

from metadata.admin.access import ReadOnlyForViewers, RefusesSecretLookups
from metadata.admin.identifiers import EMPTY
from metadata.admin.webhooks.common import (
    EventTypeFilter,
    ObjectTypeFilter,
    deliveries_url,
    delivery_count,
    json_text,
    payload_block,
)
from metadata.models import WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(RefusesSecretLookups, ReadOnlyForViewers, admin.ModelAdmin):
    list_display = (
        "created_at",
        "object_type",
        "event_type",
        "object_label",
        "door",
        "dispatched_at",
        "deliveries_link",
    )
    list_filter = (ObjectTypeFilter, EventTypeFilter)
    search_fields = ("payload__object__id", "payload__request_id")
    search_help_text = "Search by the changed object's identifier or by request id."
    ordering = ("-created_at",)
    list_per_page = 100
    show_full_result_count = False
    fields = ("id", *list_display, "payload_pretty")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return (
            super()
            .get_queryset(request)
            .defer("payload")
            .annotate(
                admin_object_name=json_text("payload", "object", "type"),
                admin_object_id=json_text("payload", "object", "id"),
                admin_door=json_text("payload", "door"),
                admin_deliveries=delivery_count(event=OuterRef("pk")),
            )
        )

    @admin.display(description="object")
    def object_label(self, event: WebhookEvent) -> str:
        return f"{event.admin_object_name} {event.admin_object_id}"

    @admin.display(description="door")
    def door(self, event: WebhookEvent) -> str:
        return event.admin_door or EMPTY

    @admin.display(description="deliveries", ordering="admin_deliveries")
    def deliveries_link(self, event: WebhookEvent) -> str:
        if not event.admin_deliveries:
            return "0"
        url = deliveries_url(event__id__exact=event.pk)
        return format_html('<a href="{}">{}</a>', url, event.admin_deliveries)

    @admin.display(description="payload")
    def payload_pretty(self, event: WebhookEvent) -> str:
        return payload_block(event.payload)
