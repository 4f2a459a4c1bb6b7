"""Objects metadata is linked to, each with its metadata inline: one save of the page is one
`services.edit_document` call (one transaction, one change event, an audit entry per
changed key), exactly as a PATCH of the same keys from the REST door."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.admin import GenericTabularInline
from django.contrib.contenttypes.forms import BaseGenericInlineFormSet
from django.core.exceptions import ValidationError
from django.db import models, router, transaction
from django.forms.formsets import DELETION_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from metadata import services
from metadata.admin.access import (
    ChangedByMetadataMutators,
    may_change_metadata,
    may_view_metadata,
)
from metadata.admin.identifiers import history_link, history_url_for_object
from metadata.admin.values import (
    MSG_KEY_EXISTS,
    NO_VALUE,
    MetadataKeyField,
    StrictJSONFormField,
    document_error,
    json_block,
)
from metadata.admin.writes import run_write, target_of_object, write_context, write_failed
from metadata.models import Metadata
from metadata.permissions import Action


class MetadataInlineForm(forms.ModelForm):
    """One key of the object: a new key and its value, or a new value for a key it has."""

    key = MetadataKeyField()
    value = StrictJSONFormField()

    class Meta:
        model = Metadata
        fields = ("key",)
        # The value is judged by the rules (the model field would call a stored null, "",
        # [] or {} blank) and stored by the service, never by the form: so it is a declared
        # field left out of the model (`fields` above still names every model field used).
        exclude = ("value",)  # noqa: DJ006

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            # Not a model field of the form (Meta), so the row's value is named as initial.
            self.initial.setdefault("value", self.instance.value)
        if self.instance.pk is not None and "key" in self.fields:
            # An existing row's key is its identity: change the value, or delete the row.
            self.fields["key"].disabled = True
        elif "value" in self.fields and self.initial.get("value") is None:
            self.initial["value"] = NO_VALUE  # a new row starts empty, not "null"


class MetadataInlineFormSet(BaseGenericInlineFormSet):
    """The object's rows as one edit of its document.

    `clean()` checks the document as the submitted rows would leave it, with the rules of
    every door, and leaves the edit in `changes` (keys to set) and `removed` (keys to
    remove), the arguments of `services.edit_document`.
    """

    changes: dict[str, Any]
    removed: list[str]

    def clean(self) -> None:
        super().clean()
        self.changes, self.removed = {}, []
        if any(self.errors):
            return
        current = {row.key: row.value for row in self.get_queryset()}
        changes: dict[str, Any] = {}
        removed: list[str] = []
        for form in self.forms:
            if not form.cleaned_data:  # an extra row left empty
                continue
            existing = form.instance.pk is not None
            if form.cleaned_data.get(DELETION_FIELD_NAME):
                if existing:
                    removed.append(form.instance.key)
                continue
            if not form.has_changed():
                continue
            key = form.instance.key if existing else form.cleaned_data["key"]
            if not existing and (key in changes or key in current):
                form.add_error("key", MSG_KEY_EXISTS)
                continue
            changes[key] = form.cleaned_data["value"]
        if any(self.errors):
            return
        document = {k: v for k, v in current.items() if k not in removed}
        document.update(changes)
        errors = document_error(document)
        if errors:
            raise ValidationError(errors)
        self.changes, self.removed = changes, removed


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
        """The metadata rows are one `services.edit_document` call; other inlines are Django's.

        A refused write (another door changed the document since the formset checked it) is
        shown by `run_write`, and the page's transaction is marked for rollback so that
        nothing of the page is kept (the object's own fields and other inlines, saved
        before, included): "Nothing was saved" is true. No query may follow in that
        transaction, so the log entry is skipped (`log_change`) and the page redirects
        (`response_change`); the metadata inline is the last one (`get_inlines`). After a
        write, `save(commit=False)` describes the rows for the log entry (it writes nothing).
        """
        if not isinstance(formset, MetadataInlineFormSet):
            super().save_formset(request, form, formset, change)
            return
        if formset.changes or formset.removed:
            target = target_of_object(request, form.instance, Action.WRITE)

            def write() -> None:
                services.edit_document(
                    target=target,
                    changes=formset.changes,
                    removed=formset.removed,
                    context=write_context(request),
                )

            if not run_write(request, write):
                transaction.set_rollback(True, using=router.db_for_write(self.model))
                return
        formset.save(commit=False)

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> Any:
        """Nothing to describe when a refused metadata write rolled the page back."""
        if write_failed(request):
            return []
        return super().construct_change_message(request, form, formsets, add)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return None if write_failed(request) else super().log_change(request, obj, message)

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
