"""support@example.com may view metadata, not change it: no edit controls, POSTs refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from metadata.models import Metadata, MetadataChange, User
from tests.admin.conftest import client_for
from tests.admin.helpers import inline_post_data, metadata_inline
from tests.conftest import COUNTERPART_ONE, ENTITY_USER, PARTNER

COUNTERPART_PAGE = f"/admin/metadata/counterpart/{COUNTERPART_ONE}/change/"


@pytest.fixture
def row(put: Callable[..., None]) -> Metadata:
    put("COUNTERPART", COUNTERPART_ONE, "external_id", "id_6c8f1262fdbc")
    return Metadata.objects.get(key="external_id")


def audit_count() -> int:
    return MetadataChange.objects.count()


def test_support_sees_the_list_without_edit_controls(support: Client, row: Metadata) -> None:
    response = support.get("/admin/metadata/metadata/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "id_6c8f1262fdbc" in html
    assert "/admin/metadata/metadata/add/" not in html
    assert 'name="_selected_action"' not in html  # no action checkboxes
    assert 'name="action"' not in html


def test_support_sees_a_row_read_only(support: Client, row: Metadata) -> None:
    response = support.get(f"/admin/metadata/metadata/{row.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "id_6c8f1262fdbc" in html
    assert "<textarea" not in html
    assert 'name="_save"' not in html
    assert "/delete/" not in html


def test_support_sees_an_object_page_read_only(support: Client, row: Metadata) -> None:
    response = support.get(COUNTERPART_PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "id_6c8f1262fdbc" in html
    assert "<textarea" not in html
    assert 'name="_save"' not in html
    formset = metadata_inline(response)
    assert formset.extra == 0
    assert len(formset.forms) == len(formset.initial_forms) == 1


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/admin/metadata/metadata/{pk}/change/", {"value": '"hacked"', "_save": "Save"}),
        ("/admin/metadata/metadata/{pk}/delete/", {"post": "yes"}),
        (
            "/admin/metadata/metadata/add/",
            {"linked_type": "ACCOUNT", "identifier": "A-154321", "key": "k", "value": "1"},
        ),
        (
            "/admin/metadata/metadata/",
            {"action": "delete_selected", "_selected_action": ["{pk}"], "post": "yes"},
        ),
    ],
)
def test_support_posts_are_refused(support: Client, row: Metadata, path: str, data: dict) -> None:
    """Changes are refused with 403; the changelist offers support no action to run at all."""
    before = audit_count()
    data = {
        name: [item.format(pk=row.pk) for item in value] if isinstance(value, list) else value
        for name, value in data.items()
    }
    response = support.post(path.format(pk=row.pk), data)
    expected = 200 if path == "/admin/metadata/metadata/" else 403
    assert response.status_code == expected
    row.refresh_from_db()
    assert row.value == "id_6c8f1262fdbc"
    assert audit_count() == before


def test_support_change_post_is_403(support: Client, row: Metadata) -> None:
    response = support.post(
        f"/admin/metadata/metadata/{row.pk}/change/", {"value": '"hacked"', "_save": "Save"}
    )
    assert response.status_code == 403


def test_support_cannot_save_an_object_page(support: Client, lead: Client, row: Metadata) -> None:
    data = inline_post_data(lead.get(COUNTERPART_PAGE), values={"external_id": "hacked"})
    before = audit_count()
    assert support.post(COUNTERPART_PAGE, data).status_code == 403
    row.refresh_from_db()
    assert row.value == "id_6c8f1262fdbc"
    assert audit_count() == before


@pytest.mark.parametrize("email", [PARTNER, ENTITY_USER])
def test_users_who_are_not_staff_never_reach_the_admin(
    demo: None, row: Metadata, email: str
) -> None:
    """The partner may change metadata through the API, but the admin is for staff."""
    client = client_for(email)
    response = client.get("/admin/metadata/metadata/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_without_metadata_permissions_see_no_metadata(demo: None, row: Metadata) -> None:
    User.objects.create_user("intern@example.com", "intern-password-1", is_staff=True)
    client = client_for("intern@example.com")
    assert client.get("/admin/metadata/metadata/").status_code == 403
    assert client.get("/admin/metadata/metadatachange/").status_code == 403
    assert "Metadata keys" not in client.get("/admin/").content.decode()
