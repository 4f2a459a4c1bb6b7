"""Webhooks in the admin: partners' subscriptions, the change events and their delivery log.

Who may do what is asked of the one permission object (`metadata_permission` with
`Principal.for_user`), never of Django's per-model flags:

* Staff who may change any metadata (`may_change_any`, CAN_MUTATE_METADATA; in the demo data
  support.lead@example.com) manage subscriptions (add, edit, activate or deactivate, delete)
  and redeliver deliveries.
* Staff who may only view any metadata (`may_view_any`; support@example.com) see
  subscriptions, events and deliveries read-only, so they can answer "our webhook never
  arrived" without escalating. They see a subscription's URL and its delivery outcomes; no
  page shows any part of a secret after the one message at creation, no changelist filters
  on one (`RefusesSecretLookups`, as `UserAdmin` does for passwords), and events carry
  metadata they may already read. They can neither edit, delete nor redeliver (403, and no
  controls shown).
* Nobody adds, changes or deletes events, deliveries or attempts by hand: the outbox and the
  worker write them, and a subscription's deliveries go when it is deleted.

Every change goes through `metadata.webhooks.subscriptions`, the service the REST door calls
too, so its rules and their messages are the admin's: the form leaves validation to it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Coalesce
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime

from metadata.admin.common import (
    EMPTY,
    ChangedByMetadataMutators,
    ReadOnlyForViewers,
    RefusesSecretLookups,
    may_change_metadata,
    pretty_json,
)
from metadata.errors import RuleViolation
from metadata.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from metadata.webhooks import subscriptions
from metadata.webhooks.events import EVENT_TYPES, object_types

MSG_SECRET = (
    "The signing secret of this subscription is <code>{}</code>. Copy it now and give it "
    "to the partner: it is not shown again."
)
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


# Subscriptions ----------------------------------------------------------------------------


class ServiceJudgedChoiceField(forms.ChoiceField):
    """A select whose value the service judges, so a bad one gets the service's message."""

    def valid_value(self, value: Any) -> bool:
        return True


class ServiceJudgedMultipleChoiceField(forms.MultipleChoiceField):
    def valid_value(self, value: Any) -> bool:
        return True


class SubscriptionForm(forms.ModelForm):
    """Add or edit a subscription through `metadata.webhooks.subscriptions`.

    The service both judges and writes, so the form calls it as the last step of
    `is_valid()` (`_post_clean`, after every field is clean): a `RuleViolation` becomes
    errors on the fields it names and nothing is written; otherwise `saved` is the stored
    subscription and the admin has nothing left to save. The admin view runs in one
    transaction and no check follows the call (the subscription admin has no inlines whose
    formsets could still fail), so a valid form is a committed change.
    """

    actor_id: Any = None  # set by the admin: the staff user who creates the subscription

    url = forms.CharField(
        label="URL",
        widget=forms.URLInput(attrs={"class": "vURLField"}),
        help_text=(
            "An absolute https URL (http only while DEBUG is on) of a public address; the "
            "worker POSTs each event there."
        ),
    )
    object_type = ServiceJudgedChoiceField(
        choices=(), help_text="Changes of this type's metadata are sent."
    )
    event_types = ServiceJudgedMultipleChoiceField(
        choices=[(name, name) for name in EVENT_TYPES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None checked means every type.",
    )
    is_active = forms.BooleanField(
        label="Active", required=False, help_text="Inactive subscriptions get no new deliveries."
    )

    class Meta:
        model = WebhookSubscription
        fields = ("url", "object_type", "event_types", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        wanted = set(self._meta.fields or ()) - set(self._meta.exclude or ())
        for name in list(self.fields):
            if name not in wanted:  # declared fields the admin's fieldsets leave out
                del self.fields[name]
        if "object_type" in self.fields:
            choices = [("", "---------"), *((name, name) for name in object_types())]
            current = self.instance.object_type
            if current and current not in object_types():  # kept as stored until changed
                choices.append((current, current))
            self.fields["object_type"].choices = choices
        self.saved: WebhookSubscription | None = None

    def clean_event_types(self) -> list[str]:
        chosen = self.cleaned_data["event_types"]
        order = {name: i for i, name in enumerate(EVENT_TYPES)}
        return sorted(chosen, key=lambda name: order.get(name, len(order)))

    def _post_clean(self) -> None:
        """Call the service (instead of the model's validation): see the class docstring."""
        if self._errors:
            return
        try:
            with transaction.atomic():
                self.saved = self._write()
        except RuleViolation as error:
            for violation in error.violations:
                field = violation.loc[0] if violation.loc else None
                self.add_error(field if field in self.fields else None, violation.msg)

    def _write(self) -> WebhookSubscription:
        data = self.cleaned_data
        if self.instance._state.adding:
            return subscriptions.create_subscription(
                url=data["url"],
                object_type=data["object_type"],
                event_types=data.get("event_types") or [],
                actor_id=self.actor_id,
            )
        changes = {name: data[name] for name in self.changed_data if name in data}
        if not changes:
            return self.instance
        return subscriptions.update_subscription(subscription=self.instance, **changes)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(RefusesSecretLookups, ChangedByMetadataMutators, admin.ModelAdmin):
    form = SubscriptionForm
    list_display = (
        "object_type",
        "url",
        "event_types_label",
        "active",
        "created_by",
        "created_by_client",
        "created_at",
        "delivered_count",
        "pending_count",
        "failed_count",
    )
    list_display_links = ("object_type", "url")
    list_select_related = ("created_by", "created_by_client")
    list_filter = (ObjectTypeFilter, "is_active")
    search_fields = ("url",)
    search_help_text = "Search by URL."
    ordering = ("-created_at",)
    actions = ("activate", "deactivate")
    list_per_page = 100
    show_full_result_count = False
    add_fieldsets = ((None, {"fields": ("url", "object_type", "event_types")}),)
    change_fieldsets = (
        (None, {"fields": ("url", "object_type", "event_types", "is_active")}),
        ("Signing", {"fields": ("previous_secret_signs_until",)}),
        ("Delivery log", {"fields": ("deliveries_summary",)}),
        ("Record", {"fields": ("created_by", "created_by_client", "created_at", "updated_at")}),
    )
    readonly_fields = (
        "event_types_label",
        "active",
        "previous_secret_signs_until",
        "deliveries_summary",
        "created_by",
        "created_by_client",
        "created_at",
        "updated_at",
    )

    # Rows: delivery counts by status in the same query.

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        counts = {
            f"admin_{status.value}": delivery_count(subscription=OuterRef("pk"), status=status)
            for status in STATUSES
        }
        return super().get_queryset(request).annotate(**counts)

    # Forms: the service writes (SubscriptionForm); the admin only shows the outcome.

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return self.add_fieldsets
        if self.has_change_permission(request, obj):
            return self.change_fieldsets
        shown = {"event_types": "event_types_label", "is_active": "active"}  # read-only labels
        return [
            (name, {**options, "fields": tuple(shown.get(f, f) for f in options["fields"])})
            for name, options in self.change_fieldsets
        ]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor_id": request.user.pk})

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        return form.saved

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Saved already, by the service the form called."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing related is edited here."""

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None) -> Any:
        response = super().response_add(request, obj, post_url_continue)
        messages.warning(request, format_html(MSG_SECRET, obj.secret))
        return response

    def delete_model(self, request: HttpRequest, obj: WebhookSubscription) -> None:
        subscriptions.delete_subscription(subscription=obj)

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        with transaction.atomic():
            for subscription in queryset:
                subscriptions.delete_subscription(subscription=subscription)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """Deliveries and their attempts go with their subscription.

        The delivery log is read-only, so Django would ask for a delete permission nobody
        has; and a subscription may have thousands of deliveries: they are counted, not listed.
        """
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        owned = {WebhookDelivery._meta.verbose_name, WebhookAttempt._meta.verbose_name}
        perms_needed = {name for name in perms_needed if name not in owned}
        deleted = [item for item in deleted if not isinstance(item, list)]
        return deleted, counts, perms_needed, protected

    # Actions.

    @admin.action(description="Activate the selected subscriptions", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        self._set_active(request, queryset, True)

    @admin.action(description="Deactivate the selected subscriptions", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        self._set_active(request, queryset, False)

    def _set_active(self, request: HttpRequest, queryset: models.QuerySet, active: bool) -> None:
        changed = [s for s in queryset if s.is_active != active]
        with transaction.atomic():
            for subscription in changed:
                subscriptions.update_subscription(subscription=subscription, is_active=active)
                self.log_change(request, subscription, [{"changed": {"fields": ["Active"]}}])
        state = "activated" if active else "deactivated"
        self.message_user(request, f"{len(changed)} subscription(s) {state}.", messages.SUCCESS)

    # Display.

    @admin.display(description="event types")
    def event_types_label(self, subscription: WebhookSubscription) -> str:
        return ", ".join(subscription.event_types) or "all"

    @admin.display(description="active", boolean=True, ordering="is_active")
    def active(self, subscription: WebhookSubscription) -> bool:
        return subscription.is_active

    def _count_link(self, subscription: WebhookSubscription, status: DeliveryStatus) -> str:
        count = getattr(subscription, f"admin_{status.value}", None)
        if count is None:
            count = subscription.deliveries.filter(status=status).count()
        if not count:
            return "0"
        url = deliveries_url(subscription__id__exact=subscription.pk, status__exact=status.value)
        return format_html('<a href="{}">{}</a>', url, count)

    @admin.display(description="delivered", ordering="admin_delivered")
    def delivered_count(self, subscription: WebhookSubscription) -> str:
        return self._count_link(subscription, DeliveryStatus.DELIVERED)

    @admin.display(description="pending", ordering="admin_pending")
    def pending_count(self, subscription: WebhookSubscription) -> str:
        return self._count_link(subscription, DeliveryStatus.PENDING)

    @admin.display(description="failed", ordering="admin_failed")
    def failed_count(self, subscription: WebhookSubscription) -> str:
        return self._count_link(subscription, DeliveryStatus.FAILED)

    @admin.display(description="previous secret")
    def previous_secret_signs_until(self, subscription: WebhookSubscription) -> str:
        """When the secret was rotated, until when the previous one also signs; never any
        part of either secret (shown once, at creation or rotation, to their owner)."""
        expires_at = subscription.previous_secret_expires_at
        if expires_at is None or expires_at <= timezone.now():
            return EMPTY
        return f"also signs deliveries until {localtime(expires_at):%Y-%m-%d %H:%M %Z}"

    @admin.display(description="deliveries")
    def deliveries_summary(self, subscription: WebhookSubscription) -> str:
        if subscription.pk is None:
            return EMPTY
        counts = format_html_join(
            ", ",
            "{} {}",
            ((self._count_link(subscription, s), s.label.lower()) for s in STATUSES),
        )
        url = deliveries_url(subscription__id__exact=subscription.pk)
        return format_html(
            '<a class="webhook-deliveries" href="{}">All deliveries</a> ({})', url, counts
        )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        extra_context = dict(extra_context or {})
        extra_context["webhook_deliveries_url"] = deliveries_url(
            subscription__id__exact=unquote(object_id)
        )
        return super().change_view(request, object_id, form_url, extra_context)


# Events -----------------------------------------------------------------------------------


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


# Deliveries -------------------------------------------------------------------------------


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
