"""The delivery log in the admin: read-only, with "Redeliver" for staff who may change."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.urls import path
from django.utils.html import format_html

from metadata.admin.access import ReadOnlyForViewers, RefusesSecretLookups, may_change_metadata
from metadata.admin.webhooks.common import (
    EventObjectTypeFilter,
    admin_url,
    event_text,
    payload_block,
)
from metadata.models import WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookSubscription
from metadata.webhooks import subscriptions


class WebhookAttemptInline(ReadOnlyForViewers, admin.TabularInline):
    """Every POST the worker made for the delivery, newest first."""

    model = WebhookAttempt
    fields = ("started_at", "duration_ms", "status_code", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "attempts"


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(RefusesSecretLookups, ReadOnlyForViewers, admin.ModelAdmin):
    """The delivery log: read-only, with "Redeliver" (action and button) for who may change."""

    list_display = (
        "created_at",
        "status",
        "attempts",
        "last_status_code",
        "subscription_link",
        "event_object_type",
        "event_type",
        "object_label",
        "last_error",
        "next_attempt_at",
        "delivered_at",
    )
    list_display_links = ("created_at",)
    list_filter = ("status", ("subscription", admin.RelatedFieldListFilter), EventObjectTypeFilter)
    search_fields = ("subscription__url", "event__payload__object__id", "last_error")
    search_help_text = "Search by subscription URL, the changed object's identifier or error."
    ordering = ("-created_at",)
    actions = ("redeliver",)
    inlines = (WebhookAttemptInline,)
    list_per_page = 100
    show_full_result_count = False
    fields = (
        "subscription_link",
        "event_link",
        "event_object_type",
        "event_type",
        "object_label",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "leased_until",
        "delivered_at",
        "created_at",
        "payload_pretty",
    )
    readonly_fields = fields

    def has_redeliver_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return may_change_metadata(request)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return (
            super()
            .get_queryset(request)
            .select_related("event", "subscription")
            .defer("event__payload", "subscription__secret", "subscription__previous_secret")
            .annotate(
                admin_object_name=event_text("object", "type"),
                admin_object_id=event_text("object", "id"),
            )
        )

    # Redeliver: queue again now, through the service; the worker sends it on its next pass.

    @admin.action(description="Redeliver", permissions=["redeliver"])
    def redeliver(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        deliveries = list(queryset)
        self._redeliver(request, deliveries)
        self.message_user(
            request,
            f"{len(deliveries)} {'delivery' if len(deliveries) == 1 else 'deliveries'} queued "
            "again; the worker sends them on its next pass.",
            messages.SUCCESS,
        )

    def _redeliver(self, request: HttpRequest, deliveries: list[WebhookDelivery]) -> None:
        with transaction.atomic():
            for delivery in deliveries:
                subscriptions.redeliver(delivery=delivery)
                self.log_change(request, delivery, "Queued for redelivery.")

    def redeliver_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_redeliver_permission(request):
            raise PermissionDenied
        delivery = self.get_object(request, unquote(object_id))
        if delivery is None:
            raise Http404("No such delivery.")
        self._redeliver(request, [delivery])
        self.message_user(
            request,
            "The delivery is queued again; the worker sends it on its next pass.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(admin_url(WebhookDelivery, "change", delivery.pk))

    def get_urls(self) -> list[Any]:
        opts = self.model._meta
        redeliver = path(
            "<path:object_id>/redeliver/",
            self.admin_site.admin_view(self.redeliver_view),
            name=f"{opts.app_label}_{opts.model_name}_redeliver",
        )
        return [redeliver, *super().get_urls()]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        extra_context = dict(extra_context or {})
        if self.has_redeliver_permission(request):
            extra_context["webhook_redeliver_url"] = admin_url(
                WebhookDelivery, "redeliver", unquote(object_id)
            )
        return super().change_view(request, object_id, form_url, extra_context)

    # Display.

    @admin.display(description="subscription", ordering="subscription__url")
    def subscription_link(self, delivery: WebhookDelivery) -> str:
        url = admin_url(WebhookSubscription, "change", delivery.subscription_id)
        return format_html('<a href="{}">{}</a>', url, delivery.subscription)

    @admin.display(description="event")
    def event_link(self, delivery: WebhookDelivery) -> str:
        url = admin_url(WebhookEvent, "change", delivery.event_id)
        return format_html('<a href="{}">{}</a>', url, delivery.event_id)

    @admin.display(description="object type", ordering="event__object_type")
    def event_object_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.object_type

    @admin.display(description="event type", ordering="event__event_type")
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.event_type

    @admin.display(description="object")
    def object_label(self, delivery: WebhookDelivery) -> str:
        return f"{delivery.admin_object_name} {delivery.admin_object_id}"

    @admin.display(description="payload")
    def payload_pretty(self, delivery: WebhookDelivery) -> str:
        return payload_block(delivery.event.payload)
