"""Support leads change metadata in the admin; every change goes through the services."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.test import Client

from metadata.models import (
    Account,
    Counterpart,
    Door,
    Metadata,
    MetadataChange,
    User,
    WebhookEvent,
)
from tests.admin.helpers import (
    COUNTERPART_PAGE,
    audit_snapshot,
    form_errors,
    inline_post_data,
    oversized_value,
    save_inline,
    size_errors,
)
from tests.conftest import COUNTERPART_ONE, SOME_TEST, SUPPORT_LEAD


def change_url(row: Metadata) -> str:
    return f"/admin/metadata/metadata/{row.pk}/change/"


# One row ----------------------------------------------------------------------------------


def test_lead_changes_a_value_and_the_audit_names_the_admin_door_and_actor(
    lead: Client, external_id: Metadata
) -> None:
    response = lead.post(
        change_url(external_id), {"value": '{"id": "id_new", "n": 2}', "_save": "Save"}
    )
    assert response.status_code == 302, form_errors(response)
    external_id.refresh_from_db()
    assert external_id.value == {"id": "id_new", "n": 2}
    assert external_id.updated_by.email == SUPPORT_LEAD
    change = MetadataChange.objects.order_by("-id").first()
    assert (change.key, change.door, change.actor.email) == (
        "external_id",
        Door.ADMIN,
        SUPPORT_LEAD,
    )
    assert (change.old_value, change.new_value) == ("id_6c8f1262fdbc", {"id": "id_new", "n": 2})
    assert change.request_id == response["X-Request-Id"]


def test_an_oversized_value_shows_the_size_error_and_changes_nothing(
    lead: Client, external_id: Metadata
) -> None:
    before = audit_snapshot()
    response = lead.post(
        change_url(external_id), {"value": json.dumps(oversized_value()), "_save": "Save"}
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["value"]
    assert size_errors(errors), errors
    assert "the limit is 2000" in response.content.decode()
    external_id.refresh_from_db()
    assert external_id.value == "id_6c8f1262fdbc"
    assert audit_snapshot() == before
    # The typed text is shown back for correction.
    assert oversized_value()[:50] in response.content.decode()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "The value is not valid JSON"),
        ("NaN", "NaN is not allowed in JSON"),
        ('{"a": Infinity}', "Infinity is not allowed in JSON"),
        ("", "Enter a JSON value"),
        ('"nul \\u0000"', "NUL character"),
        ("[" * 17 + "]" * 17, "nested 17 levels deep"),
    ],
)
def test_values_are_strict_json_that_obeys_the_rules(
    lead: Client, external_id: Metadata, text: str, message: str
) -> None:
    before = audit_snapshot()
    response = lead.post(change_url(external_id), {"value": text, "_save": "Save"})
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors["value"])
    assert message in errors
    assert audit_snapshot() == before


def test_null_is_a_value(lead: Client, external_id: Metadata) -> None:
    response = lead.post(change_url(external_id), {"value": "null", "_save": "Save"})
    assert response.status_code == 302
    external_id.refresh_from_db()
    assert external_id.value is None
    assert Metadata.objects.filter(pk=external_id.pk).exists()


def test_the_change_page_edits_only_the_value(lead: Client, external_id: Metadata) -> None:
    response = lead.post(
        change_url(external_id),
        {"key": "renamed", "object_id": "1", "value": '"v"', "_save": "Save"},
    )
    assert response.status_code == 302
    external_id.refresh_from_db()
    assert (external_id.key, external_id.object_id, external_id.value) == (
        "external_id",
        COUNTERPART_ONE,
        "v",
    )


def test_lead_adds_a_key_by_linked_type_and_identifier(lead: Client) -> None:
    page = lead.get("/admin/metadata/metadata/add/?linked_type=ACCOUNT_USER")
    assert page.status_code == 200
    response = lead.post(
        "/admin/metadata/metadata/add/",
        {
            "linked_type": "ACCOUNT_USER",
            "identifier": SOME_TEST,
            "key": "pet",
            "value": '{"pet_type": "dog", "name": "fang"}',
            "_save": "Save",
        },
    )
    assert response.status_code == 302, form_errors(response)
    user = User.objects.get(email=SOME_TEST)
    row = Metadata.objects.get(object_id=str(user.pk), key="pet")
    assert row.value == {"pet_type": "dog", "name": "fang"}
    change = MetadataChange.objects.get(key="pet")
    assert (change.action, change.door, change.actor.email) == ("created", "admin", SUPPORT_LEAD)


@pytest.mark.parametrize(
    ("identifier", "key", "field", "message"),
    [
        ("A-000000", "k", "identifier", "There is no ACCOUNT with this identifier."),
        ("A-154321", "existing", "key", "This object already has this key"),
        ("A-154321", " ", "key", "key must not be only white space"),
        ("A-154321", "x" * 101, "key", "key is 101 characters; the limit is 100"),
    ],
)
def test_adding_refuses_unknown_objects_existing_keys_and_bad_keys(
    lead: Client, put: Callable[..., None], identifier: str, key: str, field: str, message: str
) -> None:
    put("ACCOUNT", "A-154321", "existing", 1)
    before = audit_snapshot()
    response = lead.post(
        "/admin/metadata/metadata/add/",
        {
            "linked_type": "ACCOUNT",
            "identifier": identifier,
            "key": key,
            "value": "1",
            "_save": "Save",
        },
    )
    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors[field])
    assert message in errors
    assert audit_snapshot() == before


def test_adding_a_key_that_would_overflow_the_document_is_refused(
    lead: Client, put: Callable[..., None]
) -> None:
    put("ACCOUNT", "A-154321", "big", "y" * 1900)
    response = lead.post(
        "/admin/metadata/metadata/add/",
        {
            "linked_type": "ACCOUNT",
            "identifier": "A-154321",
            "key": "more",
            "value": json.dumps("z" * 200),
            "_save": "Save",
        },
    )
    assert response.status_code == 200
    assert size_errors(response.context["adminform"].form.errors["value"])
    assert not Metadata.objects.filter(key="more").exists()


def test_lead_deletes_a_key_through_the_services(lead: Client, external_id: Metadata) -> None:
    url = f"/admin/metadata/metadata/{external_id.pk}/delete/"
    assert lead.get(url).status_code == 200
    response = lead.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Metadata.objects.filter(pk=external_id.pk).exists()
    change = MetadataChange.objects.order_by("-id").first()
    assert (change.key, change.action, change.door) == ("external_id", "deleted", "admin")
    assert change.actor.email == SUPPORT_LEAD


def test_bulk_delete_action_goes_through_the_services(
    lead: Client, external_id: Metadata, put: Callable[..., None]
) -> None:
    """One write per object: its selected keys go in one change event, as a PATCH's would."""
    put("ACCOUNT", "A-154321", "external_id", "acc_1")
    rows = list(Metadata.objects.values_list("pk", flat=True))
    events = WebhookEvent.objects.count()
    response = lead.post(
        "/admin/metadata/metadata/",
        {"action": "delete_selected", "_selected_action": [str(pk) for pk in rows], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Metadata.objects.exists()
    deleted = MetadataChange.objects.filter(door="admin", exists_after=False)
    assert sorted(deleted.values_list("object_id", "key")) == [
        (str(Account.objects.get(number="A-154321").pk), "external_id"),
        (COUNTERPART_ONE, "comment"),
        (COUNTERPART_ONE, "external_id"),
    ]
    assert WebhookEvent.objects.count() == events + 2  # one per object


def test_the_history_button_of_a_row_opens_its_audit_trail(
    lead: Client, external_id: Metadata
) -> None:
    response = lead.get(f"/admin/metadata/metadata/{external_id.pk}/history/")
    assert response.status_code == 302
    assert response["Location"] == (
        f"/admin/metadata/metadatachange/?object_id={COUNTERPART_ONE}"
        "&linked_type=COUNTERPART&key=external_id"
    )


# Guards ------------------------------------------------------------------------------------


def test_metadata_rights_do_not_let_a_lead_escalate_on_a_user_page(lead: Client) -> None:
    """The user page saves metadata for a lead; its permission fields stay read-only."""
    user = User.objects.get(email=SOME_TEST)
    url = f"/admin/metadata/user/{user.pk}/change/"
    data = inline_post_data(lead.get(url), add={"k": 1})
    data.update({"is_superuser": "on", "is_staff": "on", "email": "evil@example.com"})
    assert lead.post(url, data).status_code == 302
    user.refresh_from_db()
    assert (user.is_superuser, user.is_staff, user.email) == (False, False, SOME_TEST)
    assert Metadata.objects.get(object_id=str(user.pk), key="k").value == 1


def test_metadata_rights_do_not_change_an_accounts_properties(lead: Client) -> None:
    account = Account.objects.get(number="A-154321")
    url = f"/admin/metadata/account/{account.pk}/change/"
    data = inline_post_data(lead.get(url), add={"k": 1})
    data.update(
        {
            "properties-TOTAL_FORMS": "2",
            "properties-INITIAL_FORMS": "1",
            "properties-0-id": "1",
            "properties-0-account": str(account.pk),
            "properties-0-address": "Changed",
            "properties-0-DELETE": "on",
            "properties-1-account": str(account.pk),
            "properties-1-address": "New",
        }
    )
    assert lead.post(url, data).status_code == 302
    assert list(account.properties.values_list("address", flat=True)) == [
        "1 Demo Street, Springfield"
    ]


def test_a_write_refused_after_the_form_checked_it_shows_why_and_changes_nothing(
    lead: Client, external_id: Metadata, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another door may fill the document between the form's check and the save."""
    from django.contrib.admin.models import LogEntry

    from metadata import services
    from metadata.errors import RuleViolation, Violation

    def full(**kwargs: object) -> None:
        raise RuleViolation(
            [Violation(("metadata",), "metadata is 2001 bytes; the limit is 2000", "too_large")]
        )

    monkeypatch.setattr(services, "set_key", full)  # the row's page
    monkeypatch.setattr(services, "edit_document", full)  # the object page's inline
    before, logs = audit_snapshot(), LogEntry.objects.count()
    url = change_url(external_id)
    response = lead.post(url, {"value": '"fits"', "_save": "Save"})
    assert response.status_code == 302
    assert response["Location"] == url
    page = lead.get(url)
    assert "Nothing was saved: metadata is 2001 bytes; the limit is 2000" in page.content.decode()
    external_id.refresh_from_db()
    assert external_id.value == "id_6c8f1262fdbc"
    assert audit_snapshot() == before
    assert LogEntry.objects.count() == logs

    response = save_inline(lead, COUNTERPART_PAGE, values={"external_id": "fits"})
    assert response.status_code == 302
    assert response["Location"] == COUNTERPART_PAGE
    assert audit_snapshot() == before


def test_a_deleted_objects_rows_go_with_it_and_its_history_stays(
    lead: Client, external_id: Metadata
) -> None:
    Counterpart.objects.filter(pk=COUNTERPART_ONE).delete()
    assert not Metadata.objects.filter(pk=external_id.pk).exists()
    assert lead.get(change_url(external_id)).status_code == 302  # "no longer exists"
    assert MetadataChange.objects.filter(object_id=COUNTERPART_ONE).exists()
