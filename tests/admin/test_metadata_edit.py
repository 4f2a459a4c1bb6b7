"""Support leads change metadata in the admin; every change goes through the services."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.test import Client

from metadata.models import Account, Counterpart, Door, Metadata, MetadataChange, User
from metadata.rules import MAX_DOCUMENT_BYTES
from tests.admin.helpers import (
    form_errors,
    inline_post_data,
    metadata_inline,
    oversized_value,
    save_inline,
)
from tests.conftest import COUNTERPART_ONE, SOME_TEST, SUPPORT_LEAD

COUNTERPART_PAGE = f"/admin/metadata/counterpart/{COUNTERPART_ONE}/change/"
SIZE_ERROR_START = "metadata is "
SIZE_ERROR_END = f" bytes; the limit is {MAX_DOCUMENT_BYTES}"


@pytest.fixture
def external_id(put: Callable[..., None]) -> Metadata:
    put("COUNTERPART", COUNTERPART_ONE, "external_id", "id_6c8f1262fdbc")
    put("COUNTERPART", COUNTERPART_ONE, "comment", "")
    return Metadata.objects.get(key="external_id")


def change_url(row: Metadata) -> str:
    return f"/admin/metadata/metadata/{row.pk}/change/"


def audit_snapshot() -> list[tuple]:
    return list(MetadataChange.objects.order_by("id").values_list("id", "key", "new_value"))


def size_errors(messages: list[str]) -> list[str]:
    return [m for m in messages if m.startswith(SIZE_ERROR_START) and m.endswith(SIZE_ERROR_END)]


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


def test_bulk_delete_action_goes_through_the_services(lead: Client, external_id: Metadata) -> None:
    rows = list(Metadata.objects.values_list("pk", flat=True))
    response = lead.post(
        "/admin/metadata/metadata/",
        {"action": "delete_selected", "_selected_action": [str(pk) for pk in rows], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Metadata.objects.exists()
    deleted = MetadataChange.objects.filter(door="admin", exists_after=False)
    assert sorted(deleted.values_list("key", flat=True)) == ["comment", "external_id"]


def test_the_history_button_of_a_row_opens_its_audit_trail(
    lead: Client, external_id: Metadata
) -> None:
    response = lead.get(f"/admin/metadata/metadata/{external_id.pk}/history/")
    assert response.status_code == 302
    assert response["Location"] == (
        f"/admin/metadata/metadatachange/?object_id={COUNTERPART_ONE}"
        "&linked_type=COUNTERPART&key=external_id"
    )


# The inline on object pages ------------------------------------------------------------------


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
    """Removals and shrinking values are written first, so no step passes the limit."""
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
