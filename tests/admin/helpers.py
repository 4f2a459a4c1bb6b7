"""Helpers for driving admin pages with the test client."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

from django.test import Client

from metadata.models import MetadataChange
from metadata.rules import MAX_DOCUMENT_BYTES
from tests.conftest import COUNTERPART_ONE

INLINE_PREFIX = "metadata-metadata-content_type-object_id"
COUNTERPART_PAGE = f"/admin/metadata/counterpart/{COUNTERPART_ONE}/change/"
SIZE_ERROR_START = "metadata is "
SIZE_ERROR_END = f" bytes; the limit is {MAX_DOCUMENT_BYTES}"


def metadata_inline(response: Any) -> Any:
    """The metadata formset of an object page's response."""
    for inline in response.context["inline_admin_formsets"]:
        if inline.formset.prefix == INLINE_PREFIX:
            return inline.formset
    raise AssertionError("the page has no metadata inline")


def inline_post_data(
    response: Any,
    *,
    values: dict[str, Any] | None = None,
    delete: tuple[str, ...] = (),
    add: dict[str, Any] | None = None,
) -> dict[str, str]:
    """POST data for an object page: its metadata rows as shown, with changes applied.

    `values` and `add` map keys to Python values, sent as JSON text. Other inlines (an
    account's properties) are sent empty, so they change nothing.
    """
    values, add = values or {}, add or {}
    formset = metadata_inline(response)
    data: dict[str, str] = {"_save": "Save"}
    forms = list(formset.initial_forms)
    for i, form in enumerate(forms):
        key = form.instance.key
        prefix = f"{INLINE_PREFIX}-{i}"
        data[f"{prefix}-id"] = str(form.instance.pk)
        data[f"{prefix}-value"] = json.dumps(values.get(key, form.instance.value))
        if key in delete:
            data[f"{prefix}-DELETE"] = "on"
    for j, (key, value) in enumerate(add.items(), start=len(forms)):
        prefix = f"{INLINE_PREFIX}-{j}"
        data[f"{prefix}-key"] = key
        data[f"{prefix}-value"] = json.dumps(value)
    for inline in response.context["inline_admin_formsets"]:
        other = inline.formset.prefix
        if other != INLINE_PREFIX:
            data.update({f"{other}-{name}": "0" for name in ("TOTAL_FORMS", "INITIAL_FORMS")})
    data.update(
        {
            f"{INLINE_PREFIX}-TOTAL_FORMS": str(len(forms) + len(add)),
            f"{INLINE_PREFIX}-INITIAL_FORMS": str(len(forms)),
            f"{INLINE_PREFIX}-MIN_NUM_FORMS": "0",
            f"{INLINE_PREFIX}-MAX_NUM_FORMS": "1000",
        }
    )
    return data


def save_inline(client: Client, url: str, **changes: Any) -> Any:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return client.post(url, inline_post_data(page, **changes))


def form_errors(response: Any) -> list[str]:
    """Every error message on an admin change form page (fields, form and inlines)."""
    found: list[str] = []
    adminform = response.context.get("adminform")
    if adminform is not None:
        for errors in adminform.form.errors.values():
            found.extend(errors)
    for inline in response.context.get("inline_admin_formsets") or []:
        found.extend(inline.formset.non_form_errors())
        for form_errors_ in inline.formset.errors:
            for errors in form_errors_.values():
                found.extend(errors)
    return found


def oversized_value(size: int = 2100) -> str:
    return "x" * size


def audit_snapshot() -> list[tuple]:
    return list(MetadataChange.objects.order_by("id").values_list("id", "key", "new_value"))


def size_errors(messages: list[str]) -> list[str]:
    return [m for m in messages if m.startswith(SIZE_ERROR_START) and m.endswith(SIZE_ERROR_END)]


def column_headers(response: Any) -> dict[str, list[str] | None]:
    """The changelist's column headers as rendered, by column name (`column-NAME`): the links
    of each header offered for sorting (the header's own link last), None for the others."""
    html = response.content.decode()
    headers: dict[str, list[str] | None] = {}
    for classes, body in re.findall(r'<th scope="col" class="([^"]*)">(.*?)</th>', html, re.S):
        names = [c.removeprefix("column-") for c in classes.split() if c.startswith("column-")]
        if names:
            links = [unescape(link) for link in re.findall(r'href="([^"]*)"', body)]
            headers[names[0]] = links if "sortable" in classes.split() else None
    return headers


def sort_link(response: Any, column: str) -> str:
    """Where a click on a column header's name leads (its query string)."""
    links = column_headers(response)[column]
    assert links, f"{column} is not offered for sorting"
    return links[-1]
