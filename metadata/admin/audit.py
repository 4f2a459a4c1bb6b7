"""The audit trail in the admin: every change of every door, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from metadata.admin.access import ReadOnlyForViewers
from metadata.admin.identifiers import LinkedTypeFilter, linkable_named
from metadata.admin.rows import IdentifiedRowsAdmin
from metadata.admin.values import json_block
from metadata.models import MetadataChange


@admin.register(MetadataChange)
class MetadataChangeAdmin(ReadOnlyForViewers, IdentifiedRowsAdmin):
    list_display = (
        "created_at",
        "linked_type",
        "identifier",
        "key",
        "action_label",
        "old_value_pretty",
        "new_value_pretty",
        "door",
        "actor",
    )
    list_display_links = ("created_at",)
    list_select_related = ("actor",)
    list_filter = ("door", LinkedTypeFilter)
    ordering = ("-created_at", "-id")
    sortable_by = ("created_at",)  # the one column an index orders (the trail grows to millions)
    date_hierarchy = None
    search_help_text = "Search by key or by identifier (account number, email, UUID, id)."
    fields = (*list_display, "request_id")
    readonly_fields = fields

    def get_list_display(self, request: HttpRequest) -> Any:
        if request.GET.get("object_id"):  # one object's history: the title names it
            return [c for c in self.list_display if c not in ("linked_type", "identifier")]
        return self.list_display

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        extra_context = dict(extra_context or {})
        object_id = request.GET.get("object_id")
        if object_id:
            linkable = linkable_named(request.GET.get("linked_type", ""))
            what = f"{linkable.name} {object_id}" if linkable else object_id
            key = request.GET.get("key")
            extra_context["title"] = (
                f"History of {what}, key “{key}”" if key is not None else f"History of {what}"
            )
        return super().changelist_view(request, extra_context)

    @admin.display(description="action")
    def action_label(self, change: MetadataChange) -> str:
        return change.action

    @admin.display(description="old value")
    def old_value_pretty(self, change: MetadataChange) -> str:
        return json_block(change.old_value, present=change.existed_before)

    @admin.display(description="new value")
    def new_value_pretty(self, change: MetadataChange) -> str:
        return json_block(change.new_value, present=change.exists_after)
