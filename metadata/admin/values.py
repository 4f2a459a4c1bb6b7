"""Metadata keys and JSON values in admin forms and pages, judged by `metadata.rules`.

The rules of every door are the admin's: a form field reports a key's or a value's rule
errors, and the whole document is checked by the form's (or formset's) `clean()`.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from metadata import rules
from metadata.errors import NotJSON, RuleViolation
from metadata.rules import MAX_KEY_LENGTH

VALUE_PLACEHOLDER = 'Any JSON value, for example "text", 42, true, null, [1, 2] or {"a": 1}'
MSG_VALUE_REQUIRED = "Enter a JSON value (null for an empty value)."
MSG_KEY_EXISTS = "This object already has this key: change that row instead."


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def json_block(value: Any, *, present: bool = True) -> str:
    if not present:
        return format_html('<span class="metadata-absent">{}</span>', "(absent)")
    return format_html(
        '<pre class="metadata-json" style="margin:0;padding:0;white-space:pre;'
        'min-width:10em;max-width:32em;max-height:16em;overflow:auto">{}</pre>',
        pretty_json(value),
    )


def violation_messages(error: RuleViolation) -> list[str]:
    return [violation.msg for violation in error.violations]


class StrictJSONFormField(forms.Field):
    """A JSON value typed as text: strict (no NaN/Infinity), `null` allowed, value rules applied."""

    widget = forms.Textarea(
        attrs={"rows": 4, "cols": 60, "class": "vLargeTextField", "spellcheck": "false"}
    )
    default_error_messages = {"required": MSG_VALUE_REQUIRED}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", VALUE_PLACEHOLDER)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, _Raw):
            return value.text
        return pretty_json(value)

    def to_python(self, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValidationError(self.error_messages["required"], code="required")
        try:
            parsed = rules.parse_json(value, message=rules.MSG_VALUE_NOT_JSON)
        except NotJSON as error:
            raise ValidationError(error.message, code="not_json") from error
        except RuleViolation as error:
            raise ValidationError(violation_messages(error), code="invalid") from error
        found = rules.value_violations(parsed, ("value",))
        if found:
            raise ValidationError([violation.msg for violation in found], code="invalid")
        return parsed

    def validate(self, value: Any) -> None:
        """Emptiness is judged on the text in `to_python`; a parsed `null` is a value."""

    def bound_data(self, data: Any, initial: Any) -> Any:
        if self.disabled:
            return initial
        return _Raw(data if data is not None else "")

    def has_changed(self, initial: Any, data: Any) -> bool:
        if self.disabled:
            return False
        if isinstance(initial, _Raw):
            return (data or "").strip() != initial.text.strip()
        try:
            parsed = rules.parse_json(data)
        except (NotJSON, RuleViolation, TypeError):
            return True
        return rules.canonical_json(parsed) != rules.canonical_json(initial)


class _Raw(str):
    """Text shown as it is: what was submitted (when the form has errors), or nothing."""

    @property
    def text(self) -> str:
        return str(self)


NO_VALUE = _Raw("")  # the initial text of a new row's value


def key_errors(key: str) -> list[str]:
    return [violation.msg for violation in rules.key_violations(key, ("key",))]


def document_error(document: dict[str, Any]) -> list[str]:
    """The rule messages for a document as it would be, or [] when it is fine."""
    try:
        rules.check_document(document)
    except RuleViolation as error:
        return violation_messages(error)
    return []


class MetadataKeyField(forms.CharField):
    """Keys are taken as typed (white space is part of a key) and checked by the rules."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_KEY_LENGTH)
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        errors = key_errors(value)
        if errors:
            raise forms.ValidationError(errors)
