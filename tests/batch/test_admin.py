"""The changelist action that deletes a key from the selected rows' objects, in one
transaction through `batches.delete_key_of_objects`."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from metadata.models import Door, Metadata, MetadataChange, WebhookEvent
from tests.admin.conftest import client_for, put  # noqa: F401 - fixtures
from tests.conftest import COUNTERPART_ONE, PAYABLE_ONE, SUPPORT, SUPPORT_LEAD

LIST = "/admin/metadata/metadata/"
ACTION = "delete_key_from_objects"


@pytest.fixture
def stored(put: Callable[..., None]) -> None:  # noqa: F811
    put("COUNTERPART", COUNTERPART_ONE, "legacy_id", "c1")
    put("COUNTERPART", COUNTERPART_ONE, "keep", 1)
    put("PAYABLE", PAYABLE_ONE, "legacy_id", "p1")
    put("ACCOUNT", "A-154321", "other", True)


def selected(*keys: str) -> list[str]:
    return [str(pk) for pk in Metadata.objects.filter(key__in=keys).values_list("pk", flat=True)]


def test_the_action_asks_for_the_key_then_removes_it_from_every_object(stored: None) -> None:
    lead = client_for(SUPPORT_LEAD)
    rows = selected("keep", "legacy_id", "other")  # three objects
    asked = lead.post(LIST, {"action": ACTION, "_selected_action": rows})
    assert asked.status_code == 200
    assert b"Delete the key" in asked.content
    events_before = WebhookEvent.objects.count()
    done = lead.post(
        LIST, {"action": ACTION, "_selected_action": rows, "apply": "1", "key": "legacy_id"}
    )
    assert done.status_code == 302
    assert sorted(Metadata.objects.values_list("key", flat=True)) == ["keep", "other"]
    audit = MetadataChange.objects.filter(door=Door.ADMIN)
    assert sorted(audit.values_list("key", "exists_after")) == [
        ("legacy_id", False),
        ("legacy_id", False),
    ]
    assert WebhookEvent.objects.count() == events_before + 2  # objects that had the key


def test_a_bad_key_is_asked_again_and_nothing_changes(stored: None) -> None:
    lead = client_for(SUPPORT_LEAD)
    before = Metadata.objects.count()
    response = lead.post(
        LIST, {"action": ACTION, "_selected_action": selected("keep"), "apply": "1", "key": ""}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Metadata.objects.count() == before


def test_staff_who_may_only_view_do_not_get_the_action(stored: None) -> None:
    viewer: Client = client_for(SUPPORT)
    response = viewer.post(
        LIST,
        {"action": ACTION, "_selected_action": selected("legacy_id"), "apply": "1", "key": "k"},
    )
    assert response.status_code in (302, 403, 200)
    assert Metadata.objects.filter(key="legacy_id").count() == 2
