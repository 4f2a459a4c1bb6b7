"""The forms of the metadata rows' pages: add a key to an object, change a key's value, and
the key the "delete a key" action removes.

Each form reports every rule error in `clean()`, judged by `metadata.rules` and the
permission object as any door judges them; the admin then writes through the services.
The JSON value is a declared field the model form leaves out of its model (`Meta.exclude`):
the model field would call a stored `null`, `""`, `[]` or `{}` blank, where the rules allow
them, and the row is stored by the service, never by `form.save()`.
"""

from __future__ import annotations

from typing import Any

from django import forms

from metadata.admin.identifiers import linkable_named
from metadata.admin.values import (
    MSG_KEY_EXISTS,
    MetadataKeyField,
    StrictJSONFormField,
    document_error,
)
from metadata.errors import NotFound, PermissionDenied
from metadata.linkables import Target, all_linkables
from metadata.models import Metadata
from metadata.permissions import Action, metadata_permission
from metadata.principals import Principal
from metadata.selectors import find_target, get_document

MSG_OBJECT_GONE = "The object this metadata was linked to no longer exists."


class MetadataAddForm(forms.ModelForm):
    """A new key on an object named by linked type and identifier."""

    principal: Principal  # set by the admin (`get_form`)
    target: Target | None = None  # the object found by `clean()`

    linked_type = forms.ChoiceField(
        label="Linked type",
        choices=[("", "---------"), *((lk.name, lk.name) for lk in all_linkables())],
    )
    identifier = forms.CharField(
        max_length=254,
        help_text="Account number (A-154321), email, id of a property, or UUID.",
    )
    key = MetadataKeyField()
    value = StrictJSONFormField()

    class Meta:
        model = Metadata
        fields = ("key",)
        exclude = ("value",)  # noqa: DJ006 - judged by the rules, stored by the service

    field_order = ("linked_type", "identifier", "key", "value")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        linkable = linkable_named(cleaned.get("linked_type") or "")
        identifier = cleaned.get("identifier")
        if linkable is None or not identifier:
            return cleaned
        target = find_target(linkable=linkable, identifier=identifier, principal=self.principal)
        try:
            metadata_permission.check(self.principal, target, Action.WRITE)
        except NotFound:
            self.add_error("identifier", f"There is no {linkable.name} with this identifier.")
            return cleaned
        except PermissionDenied as error:
            self.add_error(None, error.message)
            return cleaned
        self.target = target
        if "key" not in cleaned or "value" not in cleaned:
            return cleaned
        key = cleaned["key"]
        current = get_document(target=target)
        if key in current:
            self.add_error("key", MSG_KEY_EXISTS)
            return cleaned
        for message in document_error({**current, key: cleaned["value"]}):
            self.add_error("value", message)
        return cleaned


class MetadataChangeForm(forms.ModelForm):
    """A new value for an existing key; the whole document is checked, as every door does."""

    principal: Principal  # set by the admin (`get_form`), as the two below
    target: Target | None = None  # the row's object, when the caller may change the row
    editable: bool = False

    value = StrictJSONFormField()

    class Meta:
        model = Metadata
        fields = ()
        exclude = ("value",)  # noqa: DJ006 - judged by the rules, stored by the service

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Not a model field of the form (Meta), so the row's value is named as initial.
        self.initial.setdefault("value", self.instance.value)
        if self.editable and self.target is None:
            self.fields["value"].disabled = True
            self.fields["value"].help_text = MSG_OBJECT_GONE

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.target is None:
            raise forms.ValidationError(MSG_OBJECT_GONE)
        if "value" not in cleaned:
            return cleaned
        current = get_document(target=self.target)
        for message in document_error({**current, self.instance.key: cleaned["value"]}):
            self.add_error("value", message)
        return cleaned


class DeleteKeyForm(forms.Form):
    """The key the `delete_key_from_objects` action removes from the selected rows' objects."""

    key = MetadataKeyField(
        help_text="Removed from every object of the selected rows that has it, in one "
        "transaction; objects without it are left as they are."
    )
