"""The metadata list: linked type, identifier, pretty JSON, search, filters, bounded queries."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from metadata import services
from metadata.admin.identifiers import content_types
from metadata.linkables import all_linkables
from metadata.models import Door, Entity, Metadata, User
from tests.admin.conftest import target
from tests.admin.helpers import column_headers, sort_link
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


ACCOUNT_PET = ("ACCOUNT", "A-154321", "pet")
USER_NICKNAME = ("ACCOUNT_USER", SOME_TEST, "nickname")
PROPERTY_METER = ("PROPERTY", "1", "meter")
ENTITY_TIER = ("ENTITY", ENTITY_TWO, "tier")
COUNTERPART_ID = ("COUNTERPART", COUNTERPART_ONE, "external_id")
PAYABLE_ID = ("PAYABLE", PAYABLE_ONE, "external_id")


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        # Identifiers: the object's rows, found by (content type, object id).
        ("A-154321", {ACCOUNT_PET}),
        (SOME_TEST, {USER_NICKNAME}),
        ("1", {PROPERTY_METER}),
        (COUNTERPART_ONE, {COUNTERPART_ID}),
        (COUNTERPART_ONE.upper(), {COUNTERPART_ID}),
        (ENTITY_TWO, {ENTITY_TIER}),
        ("154321", set()),  # an integer: property 154321, not part of an account number
        ("A-99999", set()),
        ("nobody@example.com", set()),
        # A bare word: keys starting with it ...
        ("meter", {PROPERTY_METER}),
        ("MET", {PROPERTY_METER}),
        ("external", {COUNTERPART_ID, PAYABLE_ID}),
        ("nick", {USER_NICKNAME}),
        # ... or, when no key starts with it, keys and values containing it.
        ("name", {ACCOUNT_PET, USER_NICKNAME}),
        ("fang", {ACCOUNT_PET}),
        ("id_6c8f", {COUNTERPART_ID}),
        ("Café", {USER_NICKNAME}),
        ("gold", {ENTITY_TIER}),
        ("100%", set()),  # LIKE wildcards are text
        ("id_payable_%", set()),
        ("no-such-thing", set()),
        # key:value: that key, its value containing the text.
        ("tier:GOLD", {ENTITY_TIER}),
        ("external_id:id_payable", {PAYABLE_ID}),
        ('external_id:"id_6c8f1262fdbc"', {COUNTERPART_ID}),
        ("pet:fang", {ACCOUNT_PET}),
        ("pet:gold", set()),
        ("tier:", {ENTITY_TIER}),
        ("ex:id", set()),  # the key is exact
        # A quoted term: values containing it.
        ('"Café owner"', {USER_NICKNAME}),
        ('"dog"', {ACCOUNT_PET}),
        ('"42"', {PROPERTY_METER}),
        ('"meter"', set()),  # a key, not a value
        # Several terms narrow together.
        ("external id_payable", {PAYABLE_ID}),
        (f"{COUNTERPART_ONE} external", {COUNTERPART_ID}),
        (f"{COUNTERPART_ONE} tier", set()),
    ],
)
def test_search_is_routed_by_what_was_typed(
    lead: Client, stored: None, term: str, expected: set
) -> None:
    assert set(rows(lead.get(LIST, {"q": term}))) == expected


def test_a_word_that_starts_a_key_does_not_search_values(
    lead: Client, stored: None, put: Callable[..., None]
) -> None:
    """Keys by prefix first: "meter" is the meter key, not a note that mentions a meter."""
    put("ACCOUNT", "A-12345", "note", "meter reading due")
    assert rows(lead.get(LIST, {"q": "meter"})) == [PROPERTY_METER]
    assert rows(lead.get(LIST, {"q": '"meter"'})) == [("ACCOUNT", "A-12345", "note")]
    assert rows(lead.get(LIST, {"q": "reading"})) == [("ACCOUNT", "A-12345", "note")]


def test_the_search_box_explains_its_syntax(lead: Client, stored: None) -> None:
    html = lead.get(LIST).content.decode()
    for example in ("A-154321", "key:value", "&quot;quoted text&quot;", "starting with"):
        assert example in html


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


# Sorting ------------------------------------------------------------------------------------


def written_at(times: dict[tuple[str, str, str], int]) -> None:
    """Give each row (linked type, identifier, key) its last write time, in seconds after an
    hour ago (a key is on one object per type in these tests)."""
    start = timezone.now() - timedelta(hours=1)
    types = {linkable.name: content_type for linkable, content_type in content_types().items()}
    for (type_name, _, key), seconds in times.items():
        changed = Metadata.objects.filter(content_type=types[type_name], key=key).update(
            updated_at=start + timedelta(seconds=seconds)
        )
        assert changed == 1, (type_name, key)


def sorted_by_updated_at(client: Client, params: dict[str, str]) -> tuple[list, list]:
    """The rows after one click on the "Updated at" header and after a second click."""
    once = client.get(LIST + sort_link(client.get(LIST, params), "updated_at"))
    twice = client.get(LIST + sort_link(once, "updated_at"))
    return rows(once), rows(twice)


@pytest.mark.parametrize(
    "params", [{}, {"linked_type": "ACCOUNT"}, {"q": "external"}], ids=["all", "type", "search"]
)
def test_only_updated_at_is_offered_for_sorting(
    lead: Client, stored: None, params: dict[str, str]
) -> None:
    """Every other sort would read and sort the whole table: a header that offers no sort
    has no link, and each link of "Updated at" sorts by it first or (removing the sort)
    goes back to the list's own order; the filter or search is kept."""
    page = lead.get(LIST, params)
    column = page.context["cl"].list_display.index("updated_at")
    for response in (page, lead.get(LIST + sort_link(page, "updated_at"))):
        headers = column_headers(response)
        assert set(headers) >= {"linked_type", "identifier", "key", "updated_at", "updated_by"}
        assert [name for name, links in headers.items() if links is not None] == ["updated_at"]
        for link in headers["updated_at"] or []:
            assert all(f"{name}={value}" in link for name, value in params.items()), link
            first = link.partition("o=")[2].split("&")[0].split(".")[0]
            if first not in (str(column), f"-{column}"):
                assert rows(lead.get(LIST + link)) == rows(page), link


@pytest.mark.parametrize("column", ["linked_type", "identifier", "key", "updated_by"])
@pytest.mark.parametrize("direction", ["", "-"])
def test_a_typed_sort_by_a_column_not_offered_is_ignored(
    lead: Client, stored: None, column: str, direction: str
) -> None:
    """An old bookmark or a hand-typed `?o=` sorted the whole table by a column no header
    offers; now such a sort is ignored, as Django ignores a column that does not exist: the
    list keeps its own order, which an index serves."""
    page = lead.get(LIST)
    index = page.context["cl"].list_display.index(column)
    typed = lead.get(LIST, {"o": f"{direction}{index}"})
    assert typed.status_code == 200
    no_such_column = lead.get(LIST, {"o": "99"})
    order_by = no_such_column.context["cl"].queryset.query.order_by
    assert order_by[:3] == ("content_type", "object_id", "key")
    assert typed.context["cl"].queryset.query.order_by == order_by
    assert rows(typed) == rows(no_such_column)


def test_sorting_by_updated_at_orders_rows_by_their_last_write(lead: Client, stored: None) -> None:
    """Oldest first, then newest first; rows written at the same time keep the list's own
    order (linked type, identifier, key) in both, so pages never overlap."""
    written_at(
        {
            ACCOUNT_PET: 3,
            USER_NICKNAME: 1,
            PROPERTY_METER: 5,
            ENTITY_TIER: 2,
            COUNTERPART_ID: 2,
            PAYABLE_ID: 4,
        }
    )
    unsorted = rows(lead.get(LIST))
    tied = sorted([ENTITY_TIER, COUNTERPART_ID], key=unsorted.index)
    oldest_first, newest_first = sorted_by_updated_at(lead, {})
    assert oldest_first == [USER_NICKNAME, *tied, ACCOUNT_PET, PAYABLE_ID, PROPERTY_METER]
    assert newest_first == [PROPERTY_METER, PAYABLE_ID, ACCOUNT_PET, *tied, USER_NICKNAME]


def test_a_type_filter_or_a_search_sorted_by_updated_at(
    lead: Client, stored: None, put: Callable[..., None]
) -> None:
    put("ACCOUNT", "A-12345", "note", "x")
    account_note = ("ACCOUNT", "A-12345", "note")
    written_at({ACCOUNT_PET: 3, account_note: 7, COUNTERPART_ID: 2, PAYABLE_ID: 4})
    oldest_first, newest_first = sorted_by_updated_at(lead, {"linked_type": "ACCOUNT"})
    assert (oldest_first, newest_first) == (
        [ACCOUNT_PET, account_note],
        [account_note, ACCOUNT_PET],
    )
    oldest_first, newest_first = sorted_by_updated_at(lead, {"q": "external"})
    assert (oldest_first, newest_first) == (
        [COUNTERPART_ID, PAYABLE_ID],
        [PAYABLE_ID, COUNTERPART_ID],
    )


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
