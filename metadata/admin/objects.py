"""The linked objects in the admin, each with its metadata inline (saved through the services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.contenttypes.admin import GenericTabularInline
from django.contrib.contenttypes.forms import BaseGenericInlineFormSet
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from metadata import rules, services
from metadata.admin.common import (
    NO_VALUE,
    ChangedByMetadataMutators,
    RefusesSecretLookups,
    RulesValidateValues,
    StrictJSONFormField,
    document_error,
    history_link,
    history_url_for_object,
    json_block,
    may_change_metadata,
    may_view_metadata,
)
from metadata.admin.store import MetadataKeyField
from metadata.admin.writes import run_write, target_of_object, write_context, write_failed
from metadata.models import (
    Account,
    Counterpart,
    Entity,
    Metadata,
    PartnerClient,
    Payable,
    Property,
    User,
)
from metadata.permissions import Action
from metadata.selectors import content_type_for

# The metadata inline ----------------------------------------------------------------------


class MetadataInlineForm(RulesValidateValues, forms.ModelForm):
    key = MetadataKeyField()
    value = StrictJSONFormField()

    class Meta:
        model = Metadata
        fields = ("key", "value")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and "key" in self.fields:
            # An existing row's key is its identity: change the value, or delete the row.
            self.fields["key"].disabled = True
        elif "value" in self.fields and self.initial.get("value") is None:
            self.initial["value"] = NO_VALUE  # a new row starts empty, not "null"


class MetadataInlineFormSet(BaseGenericInlineFormSet):
    """Checks the document as the submitted rows would leave it, with the rules of every door."""

    def clean(self) -> None:
        super().clean()
        self.metadata_deletes: list[str] = []
        self.metadata_sets: dict[str, Any] = {}
        if any(self.errors):
            return
        current = {row.key: row.value for row in self.get_queryset()}
        deletes: list[str] = []
        sets: dict[str, Any] = {}
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            existing = form.instance.pk is not None
            if self.can_delete and self._should_delete_form(form):
                if existing:
                    deletes.append(form.instance.key)
                continue
            if not form.has_changed():
                continue
            key = form.instance.key if existing else form.cleaned_data["key"]
            if not existing and (key in sets or key in current):
                form.add_error("key", "This object already has this key: change that row instead.")
                continue
            sets[key] = form.cleaned_data["value"]
        if any(self.errors):
            return
        document = {k: v for k, v in current.items() if k not in deletes}
        document.update(sets)
        errors = document_error(document)
        if errors:
            raise ValidationError(errors)
        self.metadata_deletes = deletes
        self.metadata_sets = sets


class MetadataInline(ChangedByMetadataMutators, GenericTabularInline):
    model = Metadata
    form = MetadataInlineForm
    formset = MetadataInlineFormSet
    template = "admin/metadata/edit_inline/metadata_tabular.html"
    extra = 1
    verbose_name = "metadata key"
    verbose_name_plural = "metadata"
    readonly_fields = ("value_pretty", "updated_at", "updated_by", "history")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        value = "value" if may_change_metadata(request) else "value_pretty"
        return ("key", value, "updated_at", "updated_by", "history")

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).select_related("updated_by")

    def get_extra(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> int:
        return self.extra if may_change_metadata(request) else 0

    @admin.display(description="value")
    def value_pretty(self, row: Metadata) -> str:
        return json_block(row.value)

    @admin.display(description="history")
    def history(self, row: Metadata) -> str:
        return history_link(row)


class LinkedObjectAdmin(admin.ModelAdmin):
    """An object metadata can be linked to.

    Whoever may change metadata (CAN_MUTATE_METADATA) may save the object's page for its
    metadata; the object's own fields stay read-only unless they also hold the model's change
    permission.
    """

    metadata_inline = MetadataInline

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        inlines = list(super().get_inlines(request, obj))
        if obj is not None:  # metadata hangs on an object that exists: add it after saving
            inlines.append(self.metadata_inline)
        return inlines

    def may_change_fields(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if self.may_change_fields(request, obj):
            return True
        return obj is not None and may_change_metadata(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not self.may_change_fields(request, obj):
            opts = self.model._meta
            editable = [f.name for f in [*opts.fields, *opts.many_to_many] if f.editable]
            readonly += [name for name in editable if name not in readonly]
        return readonly

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change or self.may_change_fields(request, obj):
            super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if not isinstance(formset, MetadataInlineFormSet):
            super().save_formset(request, form, formset, change)
            return
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        deletes, sets = formset.metadata_deletes, formset.metadata_sets
        if not deletes and not sets:
            return
        obj = form.instance
        target = target_of_object(request, obj, Action.WRITE)
        current = {row.key: row.value for row in formset.get_queryset()}
        context = write_context(request)

        def growth(item: tuple[str, Any]) -> int:
            key, value = item
            old = rules.document_size({key: current[key]}) if key in current else 0
            return rules.document_size({key: value}) - old

        def write() -> None:
            # Removals first, then the values that shrink: no step passes the size limit
            # when the end result does not.
            for key in deletes:
                services.delete_key(target=target, key=key, context=context)
            for key, value in sorted(sets.items(), key=growth):
                services.set_key(target=target, key=key, value=value, context=context)

        if not run_write(request, write):
            return
        rows = Metadata.objects.filter(
            content_type=content_type_for(target.linkable),
            object_id=target.object_id,
            key__in=list(sets),
        )
        for row in rows:
            if row.key in current:
                formset.changed_objects.append((row, ["value"]))
            else:
                formset.new_objects.append(row)
        formset.deleted_objects = [
            f.instance for f in formset.deleted_forms if f.instance.key in deletes
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and may_view_metadata(request):
            extra_context["metadata_history_url"] = history_url_for_object(obj)
            extra_context["metadata_history_label"] = "Metadata history"
        return super().change_view(request, object_id, form_url, extra_context)

    def response_change(self, request: HttpRequest, obj: Any) -> HttpResponse:
        if write_failed(request):
            return HttpResponseRedirect(request.get_full_path())
        return super().response_change(request, obj)


# The objects ------------------------------------------------------------------------------


class PropertyInline(admin.TabularInline):
    model = Property
    extra = 0
    fields = ("address",)
    show_change_link = True


@admin.register(Account)
class AccountAdmin(LinkedObjectAdmin):
    list_display = ("number", "property_count")
    search_fields = ("number", "users__email")
    filter_horizontal = ("users",)
    inlines = (PropertyInline,)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).annotate(admin_properties=models.Count("properties"))

    @admin.display(description="properties", ordering="admin_properties")
    def property_count(self, account: Any) -> int:
        return account.admin_properties


@admin.register(Property)
class PropertyAdmin(LinkedObjectAdmin):
    list_display = ("id", "address", "account")
    list_select_related = ("account",)
    search_fields = ("=id", "address", "account__number")
    raw_id_fields = ("account",)


class GatewayUserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("email",)
        field_classes: dict[str, Any] = {}


class GatewayUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"
        field_classes: dict[str, Any] = {}


@admin.register(User)
class UserAdmin(LinkedObjectAdmin, DjangoUserAdmin):
    """Django's UserAdmin for a user model whose login is the email address."""

    form = GatewayUserChangeForm
    add_form = GatewayUserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("full_name",)}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("email", "full_name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("email", "full_name", "=id")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined")

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        """Setting a password needs the real change permission, not just metadata rights."""
        user = self.get_object(request, unquote(id))
        if user is not None and not self.may_change_fields(request, user):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)


@admin.register(Entity)
class EntityAdmin(LinkedObjectAdmin):
    list_display = ("name", "id")
    search_fields = ("name", "=id")
    filter_horizontal = ("users",)


@admin.register(Counterpart)
class CounterpartAdmin(LinkedObjectAdmin):
    list_display = ("name", "id", "entity")
    list_select_related = ("entity",)
    list_filter = ("entity",)
    search_fields = ("name", "=id", "entity__name")
    raw_id_fields = ("entity",)


@admin.register(Payable)
class PayableAdmin(LinkedObjectAdmin):
    list_display = ("document_id", "id", "entity")
    list_select_related = ("entity",)
    list_filter = ("entity",)
    search_fields = ("document_id", "=id", "entity__name")
    raw_id_fields = ("entity",)


# Partners' integration credentials ----------------------------------------------------------


class PartnerClientForm(forms.ModelForm):
    new_secret = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Sets a new client secret; only its hash is stored. Leave empty to keep it.",
    )

    class Meta:
        model = PartnerClient
        fields = ("client_id", "name", "kind", "user", "entities")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance._state.adding and not cleaned.get("new_secret"):
            self.add_error("new_secret", "A new client needs a secret.")
        return cleaned

    def save(self, commit: bool = True) -> Any:
        if self.cleaned_data.get("new_secret"):
            self.instance.set_secret(self.cleaned_data["new_secret"])
        return super().save(commit)


@admin.register(PartnerClient)
class PartnerClientAdmin(RefusesSecretLookups, admin.ModelAdmin):
    """The secret's hash is neither shown nor filterable (`RefusesSecretLookups`)."""

    form = PartnerClientForm
    list_display = ("name", "client_id", "kind", "user")
    list_select_related = ("user",)
    list_filter = ("kind",)
    search_fields = ("name", "=client_id", "user__email")
    raw_id_fields = ("user",)
    readonly_fields = ()
    fields = ("client_id", "name", "kind", "user", "entities", "new_secret")
    filter_horizontal = ("entities",)  # the client's reach (contract section 11)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return self.readonly_fields
        return ("client_id", *self.readonly_fields)
