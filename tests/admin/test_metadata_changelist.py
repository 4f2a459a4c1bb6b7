"""The metadata list: linked type, identifier, pretty JSON, search, filters, bounded queries."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from django.test import Client

from metadata import services
from metadata.linkables import all_linkables
from metadata.models import Door, Entity, Metadata, User
from tests.admin.conftest import target
from tests.conftest import (
    COUNTERPART_ONE,
    ENTITY_TWO,
    PARTNER,
    PAYABLE_ONE,
    SOME_TEST,
    SUPPORT_LEAD,
)

LIST = "/admin/metadata/metadata/"


@pytest.fixture
def stored(put: Callable[..., None]) -> None:
    put("ACCOUNT", "A-154321", "pet", {"pet_type": "dog", "name": "fang"})
    put("ACCOUNT_USER", SOME_TEST, "nickname", "Café owner")
    put("PROPERTY", "1", "meter", 42)
    put("ENTITY", ENTITY_TWO, "tier", "gold")
    put("COUNTERPART", COUNTERPART_ONE, "external_id", "id_6c8f1262fdbc")
    put("PAYABLE", PAYABLE_ONE, "external_id", "id_payable_1")


def rows(response) -> list[tuple[str, str, str]]:
    """(linked type, identifier, key) of each row of the changelist."""
    assert response.status_code == 200
    return [
        (r.admin_linkable.name, r.admin_identifier, r.key)
        for r in response.context["cl"].result_list
    ]


def test_each_row_names_its_type_and_identifier_with_pretty_json(
    lead: Client, stored: None
) -> None:
    response = lead.get(LIST)
    assert sorted(rows(response)) == sorted(
        [
            ("ACCOUNT", "A-154321", "pet"),
            ("ACCOUNT_USER", SOME_TEST, "nickname"),
            ("PROPERTY", "1", "meter"),
            ("ENTITY", ENTITY_TWO, "tier"),
            ("COUNTERPART", COUNTERPART_ONE, "external_id"),
            ("PAYABLE", PAYABLE_ONE, "external_id"),
        ]
    )
    html = response.content.decode()
    assert (
        "{\n  &quot;name&quot;: &quot;fang&quot;,\n  &quot;pet_type&quot;: &quot;dog&quot;\n}"
        in html
    )
    assert "/admin/metadata/account/1/change/" in html
    assert f"/admin/metadata/counterpart/{COUNTERPART_ONE}/change/" in html
    for header in ("Linked type", "Identifier", "Key", "Value", "Updated at", "Updated by"):
        assert header in html
    assert PARTNER in html  # updated by


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("A-154321", {("ACCOUNT", "A-154321", "pet")}),
        ("154321", {("ACCOUNT", "A-154321", "pet")}),
        (SOME_TEST, {("ACCOUNT_USER", SOME_TEST, "nickname")}),
        (COUNTERPART_ONE, {("COUNTERPART", COUNTERPART_ONE, "external_id")}),
        (COUNTERPART_ONE.upper(), {("COUNTERPART", COUNTERPART_ONE, "external_id")}),
        ("meter", {("PROPERTY", "1", "meter")}),
        ("fang", {("ACCOUNT", "A-154321", "pet")}),
        ("id_6c8f", {("COUNTERPART", COUNTERPART_ONE, "external_id")}),
        ("Café", {("ACCOUNT_USER", SOME_TEST, "nickname")}),
        ("gold", {("ENTITY", ENTITY_TWO, "tier")}),
        (
            "external_id",
            {
                ("COUNTERPART", COUNTERPART_ONE, "external_id"),
                ("PAYABLE", PAYABLE_ONE, "external_id"),
            },
        ),
        ("external_id id_payable", {("PAYABLE", PAYABLE_ONE, "external_id")}),
        ("no-such-thing", set()),
    ],
)
def test_search_by_key_identifier_and_value(
    lead: Client, stored: None, term: str, expected: set
) -> None:
    assert set(rows(lead.get(LIST, {"q": term}))) == expected


def test_filter_by_linked_type(lead: Client, stored: None) -> None:
    assert rows(lead.get(LIST, {"linked_type": "ACCOUNT"})) == [("ACCOUNT", "A-154321", "pet")]
    names = {lk.name for lk in all_linkables()}
    html = lead.get(LIST).content.decode()
    for name in names:
        assert f"?linked_type={name}" in html


def test_filter_by_updated_by(lead: Client, lead_user: User, stored: None) -> None:
    services.set_key(
        target=target("ACCOUNT", "A-12345"),
        key="by_lead",
        value=True,
        context=services.WriteContext(actor_id=lead_user.pk, door=Door.ADMIN),
    )
    response = lead.get(LIST, {"updated_by__id__exact": str(lead_user.pk)})
    assert rows(response) == [("ACCOUNT", "A-12345", "by_lead")]
    assert SUPPORT_LEAD in response.content.decode()  # offered as a filter choice


def test_rows_go_with_their_deleted_object(lead: Client, stored: None) -> None:
    assert rows(lead.get(LIST, {"linked_type": "ENTITY"})) == [("ENTITY", ENTITY_TWO, "tier")]
    Entity.objects.filter(pk=ENTITY_TWO).delete()
    assert rows(lead.get(LIST, {"linked_type": "ENTITY"})) == []


def test_changelist_of_100_rows_costs_a_bounded_number_of_queries(
    lead: Client, lead_user: User, django_assert_max_num_queries
) -> None:
    """Identifiers come from one query per linked type, not one per row."""
    context = services.WriteContext(actor_id=lead_user.pk, door=Door.ADMIN)
    users = User.objects.bulk_create(
        [User(email=f"user{i}@example.com", password="!") for i in range(20)]
    )
    entity = Entity.objects.create(name="Bulk")
    written = 0
    for user in users:  # 20 users x 2 keys
        for key in ("a", "b"):
            services.set_key(
                target=target("ACCOUNT_USER", user.email), key=key, value=key, context=context
            )
            written += 1
    for number in ("A-154321", "A-12345"):  # 2 accounts x 15 keys
        for i in range(15):
            services.set_key(
                target=target("ACCOUNT", number), key=f"k{i}", value={"i": i}, context=context
            )
            written += 1
    for i in range(20):  # 20 on an entity, 10 on a property -> 100 rows
        services.set_key(
            target=target("ENTITY", str(entity.pk)), key=f"e{i}", value=[i], context=context
        )
        written += 1
    for i in range(10):
        services.set_key(target=target("PROPERTY", "1"), key=f"p{i}", value=i, context=context)
        written += 1
    assert written == Metadata.objects.count() == 100

    lead.get(LIST)  # content types and the session are warm, as in steady use
    with django_assert_max_num_queries(12):
        response = lead.get(LIST)
    assert len(response.context["cl"].result_list) == 100
    identifiers = {r.admin_identifier for r in response.context["cl"].result_list}
    assert {"A-154321", "A-12345", "user0@example.com", str(entity.pk), "1"} <= identifiers

    with django_assert_max_num_queries(14):
        assert lead.get(LIST, {"q": "example.com"}).status_code == 200
    with django_assert_max_num_queries(12):
        assert lead.get("/admin/metadata/metadatachange/").status_code == 200
    assert uuid.UUID(str(entity.pk))
