"""Webhook subscriptions in the admin: added, edited, (de)activated and deleted by staff who
may change metadata, through `metadata.webhooks.subscriptions` (the REST door's service)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.db import models, transaction
from django.db.models import OuterRef
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime

from metadata.admin.access import ChangedByMetadataMutators, RefusesSecretLookups
from metadata.admin.identifiers import EMPTY
from metadata.admin.webhooks.common import (
    STATUSES,
    ObjectTypeFilter,
    deliveries_url,
    delivery_count,
)
from metadata.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription
from metadata.webhooks import subscriptions
from metadata.webhooks.events import EVENT_TYPES, object_types

MSG_SECRET = (
    "The signing secret of this subscription is <code>{}</code>. Copy it now and give it "
    "to the partner: it is not shown again."
)
SERVICE_FIELDS = ("url", "object_type", "event_types", "is_active")


class ServiceJudgedChoiceField(forms.ChoiceField):
    """A select whose value the service judges, so a bad one gets the service's message."""

    def valid_value(self, value: Any) -> bool:
        return True


class ServiceJudgedMultipleChoiceField(forms.MultipleChoiceField):
    def valid_value(self, value: Any) -> bool:
        return True


class SubscriptionForm(forms.ModelForm):
    """Add or edit a subscription; `metadata.webhooks.subscriptions` judges and writes it.

    `clean()` asks the service's own check (`field_violations`) about the fields the page
    changed, so the service's rules and messages are the form's errors; the admin's
    `save_model` then calls the service. The fields are declared and left out of the model
    form's model (`Meta.exclude`): the model's validators (a `URLField`'s) would judge a URL
    otherwise than the service does, and the service, not `form.save()`, stores the row.
    """

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
        fields = ()
        exclude = SERVICE_FIELDS  # noqa: DJ006 - judged and stored by the service

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in SERVICE_FIELDS:  # not model fields of the form (Meta): initial named here
            self.initial.setdefault(name, getattr(self.instance, name))
        if "object_type" in self.fields:
            choices = [("", "---------"), *((name, name) for name in object_types())]
            current = self.instance.object_type
            if current and current not in object_types():  # kept as stored until changed
                choices.append((current, current))
            self.fields["object_type"].choices = choices

    def clean_event_types(self) -> list[str]:
        chosen = self.cleaned_data["event_types"]
        order = {name: i for i, name in enumerate(EVENT_TYPES)}
        return sorted(chosen, key=lambda name: order.get(name, len(order)))

    def clean(self) -> dict[str, Any]:
        """The service's refusals of the changed fields, on the fields they name.

        Only changed fields are judged, as only they are sent to `update_subscription`: a
        stored object type no longer offered stays valid until someone changes it. On the
        add page every filled field has changed (an empty `event_types` is always valid).
        """
        cleaned = super().clean()
        judged = {
            name: cleaned[name]
            for name in ("url", "object_type", "event_types")
            if name in self.changed_data and name in cleaned
        }
        for violation in subscriptions.field_violations(**judged):
            field = violation.loc[0] if violation.loc else None
            self.add_error(field if field in self.fields else None, violation.msg)
        return cleaned

    def changes(self) -> dict[str, Any]:
        """The changed fields, as `update_subscription` takes them."""
        return {
            name: self.cleaned_data[name] for name in self.changed_data if name in SERVICE_FIELDS
        }


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
        if obj is not None:
            return form
        # A new subscription starts active: the add page has no box for it (a declared
        # field is removed by naming it None in a subclass, as Django's own get_form does).
        return type(form.__name__, (form,), {"is_active": None})

    def save_model(
        self, request: HttpRequest, obj: WebhookSubscription, form: Any, change: bool
    ) -> None:
        """The service writes. It judges with the same `field_violations` as the form's
        `clean()` did, on the same values: a refusal here would be a defect, and raises
        (the admin's transaction then keeps nothing)."""
        if change:
            changes = form.changes()
            if changes:
                subscriptions.update_subscription(subscription=obj, **changes)
            return
        data = form.cleaned_data
        created = subscriptions.create_subscription(
            url=data["url"],
            object_type=data["object_type"],
            event_types=data.get("event_types") or [],
            actor_id=request.user.pk,
        )
        obj.pk = created.pk  # the admin goes on (log, message, link) with the stored row
        obj.refresh_from_db()

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
