"""The metadata inline of an object's page: one save is one write through
`services.edit_document` (one transaction, one change event, an audit entry per changed key),
exactly as a REST PATCH of the same keys; a refused save changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from metadata import services
from metadata.errors import RuleViolation, Violation
from metadata.models import (
    Account,
    Counterpart,
    Metadata,
    MetadataChange,
    User,
    WebhookEvent,
)
from tests.admin.conftest import client_for
from tests.admin.helpers import (
    COUNTERPART_PAGE,
    audit_snapshot,
    form_errors,
    inline_post_data,
    metadata_inline,
    oversized_value,
    save_inline,
    size_errors,
)
from tests.conftest import COUNTERPART_ONE, PARTNER, SOME_TEST, SUPPORT_LEAD

ACCOUNT_NUMBER = "A-154321"


def store_state() -> tuple[list[tuple[Any, ...]], int, int, int]:
    """Every metadata row, and the numbers of audit entries, change events and log entries:
    what a refused save must leave as it was."""
    rows = list(
        Metadata.objects.order_by("content_type_id", "object_id", "key").values_list(
            "content_type_id", "object_id", "key", "value"
        )
    )
    return (
        rows,
        MetadataChange.objects.count(),
        WebhookEvent.objects.count(),
        LogEntry.objects.count(),
    )


def entries_of(event: WebhookEvent) -> list[tuple[Any, ...]]:
    """A change event's audit entries, without what names the object, the door or the time."""
    return [
        (c["key"], c["existed_before"], c["old_value"], c["exists_after"], c["new_value"])
        for c in event.payload["changes"]
    ]


# One save, one write ---------------------------------------------------------------------


def test_saving_three_changed_keys_is_one_change_event_and_three_audit_entries(
    lead: Client, put: Callable[..., None]
) -> None:
    for key in ("a", "b", "c"):
        put("COUNTERPART", COUNTERPART_ONE, key, f"old {key}")
    events, audit = WebhookEvent.objects.count(), MetadataChange.objects.count()

    response = save_inline(lead, COUNTERPART_PAGE, values={"a": 1, "b": [2], "c": {"n": 3}})

    assert response.status_code == 302, form_errors(response)
    assert WebhookEvent.objects.count() == events + 1
    assert MetadataChange.objects.count() == audit + 3
    event = WebhookEvent.objects.order_by("-created_at").first()
    assert (event.event_type, event.payload["door"]) == ("updated", "admin")
    assert event.payload["request_id"] == response["X-Request-Id"]
    assert entries_of(event) == [
        ("a", True, "old a", True, 1),
        ("b", True, "old b", True, [2]),
        ("c", True, "old c", True, {"n": 3}),
    ]
    changes = MetadataChange.objects.order_by("-id")[:3]
    assert {(c.door, c.actor.email, c.request_id) for c in changes} == {
        ("admin", SUPPORT_LEAD, response["X-Request-Id"])
    }


def test_the_object_page_writes_exactly_as_a_rest_patch_of_the_same_keys(
    lead: Client, put: Callable[..., None], token_for: Callable[[str], str]
) -> None:
    """The same edit (one key changed, one removed, one added) of the same document, once
    by the admin's inline on a counterpart and once by a PATCH on an account."""
    account = Account.objects.get(number=ACCOUNT_NUMBER)
    for type_name, identifier in (("COUNTERPART", COUNTERPART_ONE), ("ACCOUNT", ACCOUNT_NUMBER)):
        put(type_name, identifier, "external_id", "id_6c8f1262fdbc")
        put(type_name, identifier, "comment", "")
    events, audit = WebhookEvent.objects.count(), MetadataChange.objects.count()

    response = save_inline(
        lead,
        COUNTERPART_PAGE,
        values={"external_id": "id_changed"},
        delete=("comment",),
        add={"new_key": {"a": [1, 2]}},
    )
    assert response.status_code == 302, form_errors(response)
    patch = {"external_id": "id_changed", "comment": None, "new_key": {"a": [1, 2]}}
    rest = Client().patch(
        f"/v1/accounts/{ACCOUNT_NUMBER}/partner_metadata",
        json.dumps({"metadata": patch}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for(PARTNER)}"},
    )
    assert rest.status_code == 200, rest.content

    assert WebhookEvent.objects.count() == events + 2
    assert MetadataChange.objects.count() == audit + 6
    by_admin = WebhookEvent.objects.get(payload__request_id=response["X-Request-Id"])
    by_rest = WebhookEvent.objects.get(payload__request_id=rest["X-Request-Id"])
    assert (by_admin.payload["door"], by_rest.payload["door"]) == ("admin", "rest")
    assert by_admin.event_type == by_rest.event_type == "updated"
    assert entries_of(by_admin) == entries_of(by_rest)
    stored = {
        name: dict(Metadata.objects.filter(object_id=object_id).values_list("key", "value"))
        for name, object_id in (("admin", COUNTERPART_ONE), ("rest", str(account.pk)))
    }
    assert (
        stored["admin"] == stored["rest"] == {"external_id": "id_changed", "new_key": {"a": [1, 2]}}
    )


def test_a_save_the_rules_refuse_changes_nothing(lead: Client, external_id: Metadata) -> None:
    before = store_state()
    response = save_inline(
        lead,
        COUNTERPART_PAGE,
        values={"external_id": oversized_value(1000)},
        delete=("comment",),
        add={"more": oversized_value(1000)},
    )
    assert response.status_code == 200
    assert size_errors(list(metadata_inline(response).non_form_errors()))
    assert store_state() == before


def test_a_save_the_service_refuses_changes_nothing_of_the_page(
    external_id: Metadata, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another door may fill the document between the formset's check and the write: the
    service refuses, the page says why, and nothing of the page is kept, not even the
    object's own fields that a superuser changed in the same save."""
    admin = client_for(User.objects.create_superuser("root@example.com", "root-password-1").email)

    def full(**kwargs: object) -> None:
        raise RuleViolation(
            [Violation(("metadata",), "metadata is 2001 bytes; the limit is 2000", "too_large")]
        )

    monkeypatch.setattr(services, "edit_document", full)
    before = store_state()
    page = admin.get(COUNTERPART_PAGE)
    data = inline_post_data(page, values={"external_id": "fits"}, add={"new_key": 1})
    own = page.context["adminform"].form
    data.update({name: own[name].value() for name in own.fields}, name="Renamed")
    response = admin.post(COUNTERPART_PAGE, data)

    assert response.status_code == 302
    assert response["Location"] == COUNTERPART_PAGE
    shown = admin.get(COUNTERPART_PAGE).content.decode()
    assert "Nothing was saved: metadata is 2001 bytes; the limit is 2000" in shown
    assert store_state() == before
    assert Counterpart.objects.get(pk=COUNTERPART_ONE).name == "Acme Supplies"


def test_the_pages_show_each_rows_stored_value(
    lead: Client, external_id: Metadata, put: Callable[..., None]
) -> None:
    """The value is not a model field of the forms (the rules judge it, the service stores
    it): the object page's rows and the row's own page still show the stored one."""
    put("COUNTERPART", COUNTERPART_ONE, "nested", {"id": "x", "n": [1, None]})
    formset = metadata_inline(lead.get(COUNTERPART_PAGE))
    shown = {f.instance.key: json.loads(f["value"].value()) for f in formset.initial_forms}
    assert shown == {
        "comment": "",
        "external_id": "id_6c8f1262fdbc",
        "nested": {"id": "x", "n": [1, None]},
    }
    assert formset.extra_forms[0]["value"].value() == ""  # a new row starts empty, not "null"

    page = lead.get(f"/admin/metadata/metadata/{external_id.pk}/change/")
    assert json.loads(page.context["adminform"].form["value"].value()) == "id_6c8f1262fdbc"


# Editing, adding and deleting keys -------------------------------------------------------


def test_lead_edits_adds_and_deletes_keys_on_the_object_page(
    lead: Client, external_id: Metadata
) -> None:
    page = lead.get(COUNTERPART_PAGE)
    formset = metadata_inline(page)
    assert [f.instance.key for f in formset.initial_forms] == ["comment", "external_id"]

    response = save_inline(
        lead,
        COUNTERPART_PAGE,
        values={"external_id": "id_changed"},
        delete=("comment",),
        add={"new_key": {"a": [1, 2]}},
    )
    assert response.status_code == 302, form_errors(response)
    stored = dict(Metadata.objects.filter(object_id=COUNTERPART_ONE).values_list("key", "value"))
    assert stored == {"external_id": "id_changed", "new_key": {"a": [1, 2]}}
    changes = MetadataChange.objects.filter(door="admin").order_by("key")
    assert [(c.key, c.action) for c in changes] == [
        ("comment", "deleted"),
        ("external_id", "updated"),
        ("new_key", "created"),
    ]
    assert {c.actor.email for c in changes} == {SUPPORT_LEAD}


def test_the_object_page_refuses_an_oversized_document_and_changes_nothing(
    lead: Client, external_id: Metadata
) -> None:
    before = audit_snapshot()
    response = save_inline(
        lead,
        COUNTERPART_PAGE,
        values={"external_id": oversized_value(1000)},
        add={"more": oversized_value(1000)},
    )
    assert response.status_code == 200
    assert size_errors(list(metadata_inline(response).non_form_errors()))
    assert "the limit is 2000" in response.content.decode()
    external_id.refresh_from_db()
    assert external_id.value == "id_6c8f1262fdbc"
    assert not Metadata.objects.filter(key="more").exists()
    assert audit_snapshot() == before


def test_swapping_one_large_value_for_another_in_one_save_works(
    lead: Client, put: Callable[..., None]
) -> None:
    """One write: only the document it leaves is checked, not a step on the way."""
    put("COUNTERPART", COUNTERPART_ONE, "a", "a" * 1500)
    put("COUNTERPART", COUNTERPART_ONE, "b", "b")
    response = save_inline(lead, COUNTERPART_PAGE, values={"a": "a", "b": "b" * 1500})
    assert response.status_code == 302, form_errors(response)
    stored = dict(Metadata.objects.filter(object_id=COUNTERPART_ONE).values_list("key", "value"))
    assert stored == {"a": "a", "b": "b" * 1500}


def test_the_object_page_refuses_a_key_that_exists(lead: Client, external_id: Metadata) -> None:
    response = save_inline(lead, COUNTERPART_PAGE, add={"external_id": "dup"})
    assert response.status_code == 200
    assert "This object already has this key" in " ".join(form_errors(response))


def test_metadata_rights_do_not_change_the_object_itself(
    lead: Client, external_id: Metadata
) -> None:
    """support.lead may change metadata, not counterparts: the name stays as it was."""
    page = lead.get(COUNTERPART_PAGE)
    data = inline_post_data(page, values={"external_id": "x"})
    data["name"] = "Renamed"
    assert lead.post(COUNTERPART_PAGE, data).status_code == 302
    assert Counterpart.objects.get(pk=COUNTERPART_ONE).name == "Acme Supplies"
    external_id.refresh_from_db()
    assert external_id.value == "x"


@pytest.mark.parametrize("type_name", ["ACCOUNT", "ACCOUNT_USER"])
def test_object_pages_of_accounts_and_users_save_through_the_services(
    lead: Client, type_name: str
) -> None:
    if type_name == "ACCOUNT":
        obj = Account.objects.get(number="A-154321")
        url = f"/admin/metadata/account/{obj.pk}/change/"
    else:
        obj = User.objects.get(email=SOME_TEST)
        url = f"/admin/metadata/user/{obj.pk}/change/"
    response = save_inline(lead, url, add={"external_id": "id_1"})
    assert response.status_code == 302, form_errors(response)
    row = Metadata.objects.get(object_id=str(obj.pk), key="external_id")
    assert row.value == "id_1"
    assert MetadataChange.objects.get(key="external_id").door == "admin"


def test_metadata_rights_do_not_open_the_password_form(lead: Client) -> None:
    user = User.objects.get(email=SOME_TEST)
    assert lead.get(f"/admin/metadata/user/{user.pk}/change/").status_code == 200
    assert lead.get(f"/admin/metadata/user/{user.pk}/password/").status_code == 403
