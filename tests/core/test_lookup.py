"""Lookup by metadata (contract section 9) in the selector both doors call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from metadata import lookups, selectors, services
from metadata.errors import InvalidLookup, NotAuthenticated, NotFound, RuleViolation
from metadata.linkables import Target, by_name
from metadata.models import Counterpart, Door, Entity, User
from metadata.permissions import Action
from metadata.principals import Principal
from metadata.tokens import principal_from_header
from tests.conftest import COUNTERPART_ONE, COUNTERPART_TWO, ENTITY_ONE, ENTITY_USER, PARTNER

COUNTERPART = by_name("COUNTERPART")


@pytest.fixture
def as_user(token_for: Callable[[str], str]) -> Callable[[str], Principal]:
    return lambda email: principal_from_header(token_for(email))


@pytest.fixture
def write(as_user: Callable[[str], Principal]) -> Callable[[str, dict], None]:
    partner = as_user(PARTNER)
    context = services.WriteContext(actor_id=User.objects.get(email=PARTNER).pk, door=Door.REST)

    def put(identifier: str, document: dict) -> None:
        target: Target = selectors.open_target(
            principal=partner, linkable=COUNTERPART, identifier=identifier, action=Action.WRITE
        )
        services.replace_document(target=target, document=document, context=context)

    return put


@pytest.fixture
def third_counterpart(demo: None) -> str:
    entity = Entity.objects.get(pk=ENTITY_ONE)
    return str(Counterpart.objects.create(entity=entity, name="Third").pk)


def ids(page: lookups.LookupPage) -> list[str]:
    return [identifier for identifier, _ in page.items]


def test_exact_any_of_and_has_key(
    as_user: Callable[[str], Principal], write: Callable[[str, dict], None], third_counterpart: str
) -> None:
    write(COUNTERPART_ONE, {"external_id": "id_6c8f1262fdbc", "n": 1})
    write(COUNTERPART_TWO, {"external_id": "id_other"})
    write(third_counterpart, {"external_id": 42})
    partner = as_user(PARTNER)

    def find(**kwargs: object) -> list[str]:
        return ids(lookups.lookup(principal=partner, linkable=COUNTERPART, **kwargs))

    assert find(key="external_id", values=["id_6c8f1262fdbc"]) == [COUNTERPART_ONE]
    assert find(key="external_id", values=["id_6c8f1262fdbc", 42]) == sorted(
        [COUNTERPART_ONE, third_counterpart]
    )
    assert find(key="external_id") == sorted([COUNTERPART_ONE, COUNTERPART_TWO, third_counterpart])
    assert find(key="external_id", values=["42"]) == []
    assert find(key="n") == [COUNTERPART_ONE]
    assert find(key="missing") == []
    page = lookups.lookup(principal=partner, linkable=COUNTERPART, key="n")
    assert page.items == [(COUNTERPART_ONE, {"external_id": "id_6c8f1262fdbc", "n": 1})]


def test_null_and_object_values_match_by_json_equality(
    as_user: Callable[[str], Principal], write: Callable[[str, dict], None]
) -> None:
    write(COUNTERPART_ONE, {"k": None})
    write(COUNTERPART_TWO, {"k": {"b": [1, {"y": 2, "x": 1}], "a": "é"}})
    partner = as_user(PARTNER)
    found = lookups.lookup(principal=partner, linkable=COUNTERPART, key="k", values=[None])
    assert ids(found) == [COUNTERPART_ONE]
    found = lookups.lookup(
        principal=partner,
        linkable=COUNTERPART,
        key="k",
        values=[{"a": "é", "b": [1, {"x": 1, "y": 2}]}],
    )
    assert ids(found) == [COUNTERPART_TWO]
    found = lookups.lookup(
        principal=partner, linkable=COUNTERPART, key="k", values=["nope", None, {"a": "é"}]
    )
    assert ids(found) == [COUNTERPART_ONE]


def test_a_lookup_costs_three_queries_whatever_the_page(
    as_user: Callable[[str], Principal],
    write: Callable[[str, dict], None],
    django_assert_num_queries: Callable[..., Any],
) -> None:
    write(COUNTERPART_ONE, {"external_id": "one", "n": 1})
    write(COUNTERPART_TWO, {"external_id": "two"})
    found = {}
    for value, queries in (("one", 3), ("two", 3), ("three", 2)):
        partner = as_user(PARTNER)  # a fresh principal: its flags are not known yet
        # The caller's flags, the page, then the page's documents (none for an empty page).
        with django_assert_num_queries(queries):
            page = lookups.lookup(
                principal=partner, linkable=COUNTERPART, key="external_id", values=[value]
            )
        found[value] = page.items

    assert found == {
        "one": [(COUNTERPART_ONE, {"external_id": "one", "n": 1})],
        "two": [(COUNTERPART_TWO, {"external_id": "two"})],
        "three": [],
    }


def test_pagination_walks_every_object_once_in_identifier_order(
    as_user: Callable[[str], Principal], write: Callable[[str, dict], None], third_counterpart: str
) -> None:
    for identifier in (COUNTERPART_ONE, COUNTERPART_TWO, third_counterpart):
        write(identifier, {"tag": "x"})
    partner = as_user(PARTNER)
    seen, cursor = [], None
    while True:
        page = lookups.lookup(
            principal=partner, linkable=COUNTERPART, key="tag", limit=2, cursor=cursor
        )
        seen += ids(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted([COUNTERPART_ONE, COUNTERPART_TWO, third_counterpart])


def test_only_readable_objects_are_returned_and_scope_applies(
    as_user: Callable[[str], Principal], write: Callable[[str, dict], None]
) -> None:
    write(COUNTERPART_ONE, {"tag": "x"})
    write(COUNTERPART_TWO, {"tag": "x"})
    entity_user = as_user(ENTITY_USER)
    assert ids(lookups.lookup(principal=entity_user, linkable=COUNTERPART, key="tag")) == [
        COUNTERPART_ONE
    ]
    partner = as_user(PARTNER)
    scoped = lookups.lookup(
        principal=partner, linkable=COUNTERPART, key="tag", entity_scope=ENTITY_ONE
    )
    assert ids(scoped) == [COUNTERPART_ONE]
    with pytest.raises(NotFound):
        lookups.lookup(principal=partner, linkable=COUNTERPART, key="tag", entity_scope="x")


def test_a_write_is_found_by_the_next_lookup(
    as_user: Callable[[str], Principal], write: Callable[[str, dict], None]
) -> None:
    partner = as_user(PARTNER)
    assert ids(lookups.lookup(principal=partner, linkable=COUNTERPART, key="new")) == []
    write(COUNTERPART_TWO, {"new": True})
    assert ids(lookups.lookup(principal=partner, linkable=COUNTERPART, key="new")) == [
        COUNTERPART_TWO
    ]


def test_bad_parameters_are_refused(as_user: Callable[[str], Principal]) -> None:
    partner = as_user(PARTNER)
    with pytest.raises(InvalidLookup, match="between 1 and 100"):
        lookups.lookup(principal=partner, linkable=COUNTERPART, key="k", limit=101)
    with pytest.raises(InvalidLookup):
        lookups.lookup(principal=partner, linkable=COUNTERPART, key="k", cursor="%%%")
    with pytest.raises(InvalidLookup):
        lookups.lookup(
            principal=partner,
            linkable=COUNTERPART,
            key="k",
            cursor=lookups.encode_cursor("not-a-uuid"),
        )
    with pytest.raises(RuleViolation):
        lookups.lookup(principal=partner, linkable=COUNTERPART, key="")
    with pytest.raises(NotAuthenticated):
        lookups.lookup(principal=None, linkable=COUNTERPART, key="k")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN plans are PostgreSQL's")
def test_postgresql_finds_values_through_the_lookup_index(demo: None) -> None:
    from django.contrib.contenttypes.models import ContentType

    from metadata.models import Metadata

    content_type = ContentType.objects.get_for_model(Counterpart)
    Metadata.objects.bulk_create(
        Metadata(content_type=content_type, object_id=str(i), key="external_id", value=f"id_{i}")
        for i in range(5000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE metadata_metadata")
    rows = lookups.matching_rows(linkable=COUNTERPART, key="external_id", values=["id_42"])
    plan = rows.explain()
    assert "metadata_lookup_idx" in plan, plan
    assert list(rows.values_list("object_id", flat=True)) == ["42"]
