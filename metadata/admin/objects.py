"""The objects metadata is linked to (accounts, properties, users, entities, counterparts,
payables), each with its metadata inline (`linked`), and partners' integration credentials."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest

from metadata.admin.access import RefusesSecretLookups
from metadata.admin.linked import LinkedObjectAdmin
from metadata.models import Account, Counterpart, Entity, PartnerClient, Payable, Property, User

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
