"""Issue 22: the metadata changelist stays cheap however big the table grows.

What is asserted is what the pages make the database do (queries and their plans), never a
time: the same number of queries at 10 and at 1,000 rows, no count of the whole table past a
threshold, no sidebar filter or facet scanning the table, and, on PostgreSQL with realistic
statistics, every search route served by the index built for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from metadata.admin.identifiers import content_types
from metadata.models import Counterpart, Metadata, User
from tests.admin.helpers import sort_link
from tests.conftest import COUNTERPART_ONE, ENTITY_TWO, SOME_TEST

LIST = "/admin/metadata/metadata/"
METADATA_TABLE = '"metadata_metadata"'
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="planner estimates and plans are PostgreSQL's"
)


def fill(rows: int, *, writer: User | None = None) -> list[str]:
    """`rows` metadata rows on filler counterparts, ten keys each; their identifiers."""
    objects = Counterpart.objects.bulk_create(
        [Counterpart(entity_id=ENTITY_TWO, name=f"filler {i}") for i in range(rows // 10)]
    )
    content_type = ContentType.objects.get_for_model(Counterpart)
    Metadata.objects.bulk_create(
        [
            Metadata(
                content_type=content_type,
                object_id=str(obj.pk),
                key=f"key_{k}",
                value=f"value-{i}-{k}",
                updated_by=writer,
            )
            for i, obj in enumerate(objects)
            for k in range(10)
        ]
    )
    return [str(obj.pk) for obj in objects]


def page_queries(client: Client, params: dict[str, str]) -> tuple[Any, list[str]]:
    client.get(LIST, params)  # content types, session and permissions warm, as in steady use
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, params)
    assert response.status_code == 200, response.status_code
    return response, [query["sql"] for query in queries.captured_queries]


def result_count(response: Any) -> str:
    found = re.search(r'class="metadata-result-count">([^<]*)<', response.content.decode())
    assert found, "the page shows no result count"
    return " ".join(found.group(1).split())


# Queries per page ---------------------------------------------------------------------------

PAGES: list[tuple[str, Callable[[list[str]], dict[str, str]]]] = [
    ("everything", lambda ids: {}),
    ("a linked type", lambda ids: {"linked_type": "COUNTERPART"}),
    ("a writer", lambda ids: {"updated_by__id__exact": "3a9c5e1e-0000-4000-8000-0000000000d2"}),
    ("an identifier", lambda ids: {"q": ids[0]}),
    ("a key prefix", lambda ids: {"q": "key_1"}),
    ("a word in values", lambda ids: {"q": "value-0"}),
    ("key:value", lambda ids: {"q": "key_2:value"}),
    ("a quoted value", lambda ids: {"q": '"value-0-1"'}),
    ("two terms", lambda ids: {"q": f"{ids[0]} key_3"}),
]


@pytest.mark.parametrize(("name", "params"), PAGES, ids=[name for name, _ in PAGES])
def test_a_page_costs_the_same_queries_at_10_and_1000_rows(
    lead: Client, lead_user: User, name: str, params: Callable[[list[str]], dict[str, str]]
) -> None:
    assert str(lead_user.pk) == "3a9c5e1e-0000-4000-8000-0000000000d2"
    counts = []
    for rows in (10, 1000):
        Metadata.objects.all().delete()
        ids = fill(rows, writer=lead_user)
        response, queries = page_queries(lead, params(ids))
        assert response.context["cl"].result_list, (name, rows)  # the page found something
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_facets_are_never_counted(lead: Client, lead_user: User) -> None:
    """`?_facets=1` would count the table once per filter choice; the list ignores it."""
    fill(100, writer=lead_user)
    _, plain = page_queries(lead, {})
    response, with_facets = page_queries(lead, {"_facets": "1"})
    assert len(with_facets) == len(plain)
    assert "Show counts" not in response.content.decode()


def test_no_filter_of_the_sidebar_reads_the_table_with_distinct(
    lead: Client, lead_user: User
) -> None:
    fill(100, writer=lead_user)
    response, queries = page_queries(lead, {})
    assert not [q for q in queries if "DISTINCT" in q.upper() and METADATA_TABLE in q]
    html = response.content.decode()
    assert f"?updated_by__id__exact={lead_user.pk}" in html  # the writer is offered
    assert "?linked_type=PAYABLE" in html  # every type of the registry, with or without rows


def test_a_malformed_writer_is_a_clear_error_not_a_500(lead: Client, lead_user: User) -> None:
    fill(10, writer=lead_user)
    response = lead.get(LIST, {"updated_by__id__exact": "not-a-user"})
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


# Counting ---------------------------------------------------------------------------------


def test_a_small_table_is_counted_exactly_on_every_page(
    lead: Client, lead_user: User, settings: Any
) -> None:
    settings.METADATA_ADMIN_COUNT_UP_TO = 150  # paging or ordering is not narrowing
    fill(200, writer=lead_user)
    with connection.cursor() as cursor:  # what an earlier test's big table left is forgotten
        cursor.execute("ANALYZE metadata_metadata")
    assert result_count(page_queries(lead, {})[0]) == "200 metadata"
    response, _ = page_queries(lead, {"p": "2", "o": "-5"})
    assert result_count(response) == "200 metadata"
    assert len(response.context["cl"].result_list) == 100


@postgresql_only
def test_past_the_threshold_the_table_is_estimated_not_counted(
    lead: Client, lead_user: User, settings: Any
) -> None:
    settings.METADATA_ADMIN_ESTIMATE_ABOVE = 50
    fill(200, writer=lead_user)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE metadata_metadata")
    response, queries = page_queries(lead, {})
    label = result_count(response)
    assert re.fullmatch(r"about [\d,]+ metadata", label), label
    estimate = int(label.split()[1].replace(",", ""))
    assert 150 <= estimate <= 250, estimate
    assert not [q for q in queries if "COUNT(" in q.upper() and METADATA_TABLE in q]
    assert len(response.context["cl"].result_list) == 100


def test_a_search_or_filter_is_counted_exactly_up_to_a_cap(
    lead: Client, lead_user: User, settings: Any
) -> None:
    settings.METADATA_ADMIN_ESTIMATE_ABOVE = 50  # a narrowed list never uses the estimate
    settings.METADATA_ADMIN_COUNT_UP_TO = 150
    fill(200, writer=lead_user)
    assert result_count(page_queries(lead, {"q": "key_1"})[0]) == "20 metadata"
    response, _ = page_queries(lead, {"linked_type": "COUNTERPART"})
    assert result_count(response) == "more than 150 metadata"
    assert response.context["cl"].paginator.num_pages == 2
    assert len(response.context["cl"].result_list) == 100


# What a term may make the server do ----------------------------------------------------------


@pytest.mark.parametrize("term", ["a\x00b", "key_1:\x00", '"\x00"', "\x00@example.com"])
def test_a_nul_byte_is_refused_with_a_message_not_a_500(
    lead: Client, lead_user: User, term: str
) -> None:
    """PostgreSQL cannot compare text with NUL; Django's search form refuses it first."""
    fill(10, writer=lead_user)
    response = lead.get(LIST, {"q": term})
    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()


def test_an_unknown_identifier_costs_what_a_known_one_does(
    support: Client, put: Callable[..., None]
) -> None:
    """View-only staff learn nothing about which emails or account numbers exist from the
    search: a user with no metadata and no user at all give the same page, same queries."""
    put("ACCOUNT_USER", SOME_TEST, "nickname", "x")
    pages = {
        term: page_queries(support, {"q": term})
        for term in ("partner@example.com", "nobody@example.com", "A-12345", "A-99999")
    }
    for known, unknown in (("partner@example.com", "nobody@example.com"), ("A-12345", "A-99999")):
        assert list(pages[known][0].context["cl"].result_list) == []
        assert list(pages[unknown][0].context["cl"].result_list) == []
        assert len(pages[known][1]) == len(pages[unknown][1])


# Plans (PostgreSQL, realistic statistics) -----------------------------------------------------


BLOCKING = {"Sort", "Incremental Sort", "Aggregate", "Hash", "Materialize", "Unique", "SetOp"}


def plan_nodes(plan: dict[str, Any], limited: bool = False) -> Iterator[tuple[dict, bool]]:
    """Every node of a plan, with whether a Limit above it bounds how much it reads (a Limit
    over a Sort, say, does not: the sort reads everything first)."""
    if plan["Node Type"] == "Limit":
        limited = True
    elif plan["Node Type"] in BLOCKING:
        limited = False
    yield plan, limited
    for child in plan.get("Plans", []):
        yield from plan_nodes(child, limited)


def explained(queries: list[str]) -> list[tuple[dict, bool]]:
    nodes = []
    with connection.cursor() as cursor:
        for sql in queries:
            if METADATA_TABLE not in sql or not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            (document,) = cursor.fetchone()
            document = json.loads(document) if isinstance(document, str) else document
            nodes.extend(plan_nodes(document[0]["Plan"]))
    return nodes


ROWS_PER_TYPE = 15_000


@pytest.fixture
def realistic(put: Callable[..., None], lead_user: User) -> None:
    """15,000 rows per linked type (1,500 objects x 10 of 50 keys, distinct values, each row
    written a second before the next, the types' writes interleaved), the demo objects'
    rows, and fresh statistics, as `make bench`'s database has them after its migration: no
    type is rare enough for its content type alone to find an object's rows."""
    for type_name, identifier, key, value in (
        ("ACCOUNT", "A-154321", "pet", {"pet_type": "dog", "name": "fang"}),
        ("ACCOUNT_USER", SOME_TEST, "nickname", "Café owner"),
        ("PROPERTY", "1", "meter", 42),
        ("COUNTERPART", COUNTERPART_ONE, "rare_key", "id_6c8f1262fdbc"),
    ):
        put(type_name, identifier, key, value)
    with connection.cursor() as cursor:
        for linkable, content_type in content_types().items():
            integer = linkable.identifier_kind == "integer" or linkable.name == "ACCOUNT"
            object_id = "(1000 + n / 10)::text" if integer else "md5(%s || (n / 10))::uuid::text"
            cursor.execute(
                "INSERT INTO metadata_metadata"
                " (content_type_id, object_id, key, value, created_at, updated_at, updated_by_id)"
                f" SELECT %s, {object_id}, 'key_' || (n %% 50),"
                " to_jsonb('value-' || n), now() - make_interval(secs => %s - n),"
                " now() - make_interval(secs => %s - n), %s"
                " FROM generate_series(0, %s) AS n",
                [
                    content_type.pk,
                    *([] if integer else [linkable.name]),
                    ROWS_PER_TYPE,
                    ROWS_PER_TYPE,
                    lead_user.pk,
                    ROWS_PER_TYPE - 1,
                ],
            )
        cursor.execute("ANALYZE metadata_metadata")


ROUTES = [
    ("UUID", {"q": COUNTERPART_ONE}, {"metadata_unique_object_key"}),
    ("account number", {"q": "A-154321"}, {"metadata_unique_object_key"}),
    ("email", {"q": SOME_TEST}, {"metadata_unique_object_key"}),
    ("integer id", {"q": "1"}, {"metadata_unique_object_key"}),
    ("key prefix", {"q": "rare_k"}, {"metadata_key_trgm_idx"}),
    ("word in a value", {"q": "fang"}, {"metadata_value_trgm_idx"}),
    (
        "key:value",
        {"q": "pet:fang"},
        {"metadata_value_trgm_idx", "metadata_type_key_idx", "metadata_lookup_idx"},
    ),
    ("quoted value", {"q": '"6c8f1262"'}, {"metadata_value_trgm_idx"}),
    ("linked type", {"linked_type": "ACCOUNT"}, None),
    ("everything", {}, None),
]


@postgresql_only
def test_every_route_is_served_by_an_index(lead: Client, realistic: None) -> None:
    """Each query of each page, EXPLAINed as the page ran it: the search reads the index built
    for its route, and nothing reads the whole table (a scan is only allowed under a LIMIT
    that stops it after a page of rows). One test for every route: the table is built once."""
    failures = []
    for route, params, indexes in ROUTES:
        response, queries = page_queries(lead, params)
        if indexes and not response.context["cl"].result_list:
            failures.append((route, "found nothing to plan for"))
        nodes = explained(queries)
        used = {node.get("Index Name") for node, _ in nodes} - {None}
        if indexes and not used & indexes:
            failures.append((route, f"uses {sorted(used)}, none of {sorted(indexes)}"))
        unbounded = [
            node["Node Type"]
            for node, limited in nodes
            if node.get("Relation Name") == "metadata_metadata"
            and node["Node Type"] == "Seq Scan"
            and not limited
        ]
        if unbounded:
            failures.append((route, f"reads the whole table: {unbounded}"))
    assert not failures, failures


SORTED = [
    ("everything", {}),
    ("a linked type", {"linked_type": "COUNTERPART"}),
    ("a key prefix", {"q": "key_1"}),
]


@postgresql_only
def test_sorting_by_updated_at_reads_one_page_down_its_index(lead: Client, realistic: None) -> None:
    """The pages one and two clicks on "Updated at" lead to (oldest, then newest first),
    whole, filtered by type and searched by key: the sorted query walks the updated_at index
    and sorts only rows written at the same time as they come (an incremental sort, never a
    sort of every row), and no query of the page reads the whole table."""
    failures = []
    for route, params in SORTED:
        link = sort_link(lead.get(LIST, params), "updated_at")
        for direction in ("oldest first", "newest first"):
            response, queries = page_queries(lead, dict(parse_qsl(link.lstrip("?"))))
            if not response.context["cl"].result_list:
                failures.append((route, direction, "found nothing to plan for"))
            link = sort_link(response, "updated_at")  # the next click toggles the direction
            ordered = [q for q in queries if 'ORDER BY "metadata_metadata"."updated_at"' in q]
            if len(ordered) != 1:
                failures.append((route, direction, f"{len(ordered)} queries sorted by time"))
                continue
            nodes = [node for node, _ in explained(ordered)]
            if not any(node.get("Index Name") == "metadata_updated_at_idx" for node in nodes):
                failures.append((route, direction, "the updated_at index is not read"))
            for node in nodes:
                if node["Node Type"] == "Sort" or (
                    node["Node Type"] == "Seq Scan"
                    and node.get("Relation Name") == "metadata_metadata"
                ):
                    failures.append((route, direction, node["Node Type"]))
            unbounded = [
                node["Node Type"]
                for node, limited in explained(queries)
                if node.get("Relation Name") == "metadata_metadata"
                and node["Node Type"] == "Seq Scan"
                and not limited
            ]
            if unbounded:
                failures.append((route, direction, f"reads the whole table: {unbounded}"))
    assert not failures, failures


@postgresql_only
def test_searches_are_never_prepared_so_each_is_planned_for_its_term(
    lead: Client, lead_user: User
) -> None:
    """A prepared search may get a plan made for any pattern, which scans the table; the
    list's queries run unprepared however often they are repeated on a connection."""
    fill(100, writer=lead_user)
    for _ in range(6):
        assert lead.get(LIST, {"q": "value-1"}).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert not [s for s in prepared if METADATA_TABLE in s and "LIKE" in s.upper()], prepared
