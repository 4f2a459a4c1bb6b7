"""The audit trail in the admin: read-only, newest first, filtered and searched, linked to."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from metadata.models import MetadataChange, User
from tests.admin.helpers import column_headers, save_inline, sort_link
from tests.conftest import COUNTERPART_ONE, SOME_TEST, SUPPORT_LEAD

AUDIT = "/admin/metadata/metadatachange/"


@pytest.fixture
def history(lead: Client, put: Callable[..., None]) -> None:
    put("ACCOUNT", "A-154321", "pet", {"pet_type": "dog"})
    put("COUNTERPART", COUNTERPART_ONE, "external_id", "id_1")
    put("ACCOUNT_USER", SOME_TEST, "nickname", "st")
    response = save_inline(
        lead,
        f"/admin/metadata/counterpart/{COUNTERPART_ONE}/change/",
        values={"external_id": "id_2"},
    )
    assert response.status_code == 302


def listed(response) -> list[MetadataChange]:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_newest_first_with_old_and_new_values_side_by_side(lead: Client, history: None) -> None:
    response = lead.get(AUDIT)
    changes = listed(response)
    assert [(c.key, c.door) for c in changes] == [
        ("external_id", "admin"),
        ("nickname", "rest"),
        ("external_id", "rest"),
        ("pet", "rest"),
    ]
    html = response.content.decode()
    assert html.index("Old value") < html.index("New value")
    assert "&quot;id_1&quot;" in html and "&quot;id_2&quot;" in html
    assert "(absent)" in html  # a created key had no old value
    assert "{\n  &quot;pet_type&quot;: &quot;dog&quot;\n}" in html
    assert SUPPORT_LEAD in html


def test_only_the_time_is_offered_for_sorting_and_a_typed_sort_is_ignored(
    lead: Client, history: None
) -> None:
    """The trail grows with every write; only its time has an index to sort by."""
    page = lead.get(AUDIT)
    headers = column_headers(page)
    assert [name for name, links in headers.items() if links is not None] == ["created_at"]
    oldest_first = listed(lead.get(AUDIT + sort_link(page, "created_at")))
    assert oldest_first == list(reversed(listed(page)))
    key_column = page.context["cl"].list_display.index("key")
    assert listed(lead.get(AUDIT, {"o": str(key_column)})) == listed(page)


def test_filters_by_door_and_linked_type(lead: Client, history: None) -> None:
    assert [c.key for c in listed(lead.get(AUDIT, {"door__exact": "admin"}))] == ["external_id"]
    assert [c.key for c in listed(lead.get(AUDIT, {"linked_type": "ACCOUNT"}))] == ["pet"]
    assert [c.key for c in listed(lead.get(AUDIT, {"linked_type": "ACCOUNT_USER"}))] == ["nickname"]


@pytest.mark.parametrize(
    ("term", "keys"),
    [
        ("A-154321", ["pet"]),
        (SOME_TEST, ["nickname"]),
        (COUNTERPART_ONE, ["external_id", "external_id"]),
        ("nick", ["nickname"]),
    ],
)
def test_search_by_key_and_identifier(lead: Client, history: None, term: str, keys) -> None:
    assert [c.key for c in listed(lead.get(AUDIT, {"q": term}))] == keys


def test_a_rows_history_link_lists_that_key_of_that_object(lead: Client, history: None) -> None:
    page = lead.get("/admin/metadata/metadata/", {"q": COUNTERPART_ONE})
    link = f"{AUDIT}?object_id={COUNTERPART_ONE}&amp;linked_type=COUNTERPART&amp;key=external_id"
    assert link in page.content.decode()
    response = lead.get(
        AUDIT, {"object_id": COUNTERPART_ONE, "linked_type": "COUNTERPART", "key": "external_id"}
    )
    changes = listed(response)
    assert [(c.door, c.new_value) for c in changes] == [("admin", "id_2"), ("rest", "id_1")]
    assert f"History of COUNTERPART {COUNTERPART_ONE}, key “external_id”" in (
        response.content.decode()
    )


def test_an_object_pages_history_link_lists_its_keys(lead: Client, history: None) -> None:
    user = User.objects.get(email=SOME_TEST)
    page = lead.get(f"/admin/metadata/user/{user.pk}/change/")
    link = f"{AUDIT}?object_id={user.pk}&amp;linked_type=ACCOUNT_USER"
    assert link in page.content.decode()
    response = lead.get(AUDIT, {"object_id": str(user.pk), "linked_type": "ACCOUNT_USER"})
    assert [c.key for c in listed(response)] == ["nickname"]


@pytest.mark.parametrize("who", ["lead", "support", "superuser"])
def test_the_audit_trail_is_read_only_for_everyone(
    request: pytest.FixtureRequest, history: None, who: str
) -> None:
    if who == "superuser":
        User.objects.create_superuser("root@example.com", "root-password-1")
        client = Client()
        client.force_login(User.objects.get(email="root@example.com"))
    else:
        client = request.getfixturevalue(who)
    change = MetadataChange.objects.first()
    before = list(MetadataChange.objects.values_list("id", "new_value"))

    page = client.get(f"{AUDIT}{change.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and "<textarea" not in html
    listing = client.get(AUDIT).content.decode()
    assert f"{AUDIT}add/" not in listing
    assert 'name="_selected_action"' not in listing

    assert client.get(f"{AUDIT}add/").status_code == 403
    assert client.post(f"{AUDIT}add/", {"key": "x"}).status_code == 403
    assert client.post(f"{AUDIT}{change.pk}/change/", {"key": "x"}).status_code == 403
    assert client.post(f"{AUDIT}{change.pk}/delete/", {"post": "yes"}).status_code == 403
    assert list(MetadataChange.objects.values_list("id", "new_value")) == before
