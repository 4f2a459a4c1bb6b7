"""`python -m bench.admin` (issue 22): the support staff's admin pages at 10^6 metadata rows.

    .venv/bin/python -m bench.admin [--rows 1000000] [--runs 3] [--rebuild] [--markdown]

1. Builds a PostgreSQL database of its own (BENCH_ADMIN_DATABASE_URL, default
   postgres://postgres@127.0.0.1:5432/metadata_bench_admin) with `bench.database`: migrated,
   the demo data, filler counterparts up to `--rows` metadata rows, each written at its own
   time (the list sorts by it). A database that already holds the rows is reused (migrated
   again, so new indexes are built; filler of an older build, written all at one time, gets
   its times spread once); `--rebuild` drops it.
2. Times each admin page and search through Django's test client, in this process, logged in
   as a superuser, with DEBUG off (no query log): one warm-up request, then the best of
   `--runs`. The machine is shared, so the best run is the one least disturbed by others.
3. Prints the table (markdown with `--markdown`): the best wall time, this process's CPU time
   (Python and templates; the database's is not in it), and how many rows each page listed,
   so a fast answer that found nothing shows as such. On a shared machine the CPU time moves
   less than the wall time.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from dataclasses import dataclass
from typing import Any

from bench import database
from bench.server import PROJECT_DIR

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/metadata_bench_admin"
SUPERUSER = "bench.admin@example.com"
COUNTERPART_ONE = "3a9c5e1e-0000-4000-8000-000000000011"  # demo data, Entity One
DEMO_METADATA = (
    ("ACCOUNT", "A-154321", "pet", {"pet_type": "dog", "name": "fang"}),
    ("ACCOUNT_USER", "some.test@email.com", "nickname", "Café owner"),
    ("PROPERTY", "1", "meter", 42),
    ("COUNTERPART", COUNTERPART_ONE, "external_id", "id_6c8f1262fdbc"),
)
FILLER_NUMBER = 54_321  # a filler counterpart half-way into the table


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    params: dict[str, str]


def pages(filler_uuid: str, row_pk: int) -> list[Page]:
    """The pages support staff open while a partner waits, each as its URL."""
    changelist = "/admin/metadata/metadata/"
    value = f"filler_{FILLER_NUMBER}"
    return [
        Page("changelist", changelist, {}),
        Page("filter by type (COUNTERPART, 10^6 rows)", changelist, {"linked_type": "COUNTERPART"}),
        Page("filter by type (ACCOUNT, few rows)", changelist, {"linked_type": "ACCOUNT"}),
        Page("search by identifier (UUID)", changelist, {"q": filler_uuid}),
        Page("search by identifier (account number)", changelist, {"q": "A-154321"}),
        Page("search by identifier (email)", changelist, {"q": "some.test@email.com"}),
        Page("search by key (external_id)", changelist, {"q": "external_id"}),
        Page("search by key prefix (extern)", changelist, {"q": "extern"}),
        Page("search by a word in a value (fang)", changelist, {"q": "fang"}),
        Page(f"search by value ({value})", changelist, {"q": value}),
        Page(f"search by value (external_id:{value})", changelist, {"q": f"external_id:{value}"}),
        Page(f'search by value ("{value}")', changelist, {"q": f'"{value}"'}),
        Page("sorted by updated at, newest first", changelist, {"o": "-5"}),
        Page("sorted by updated at, oldest first", changelist, {"o": "5"}),
        Page(
            "type filter (COUNTERPART) sorted by updated at",
            changelist,
            {"linked_type": "COUNTERPART", "o": "-5"},
        ),
        Page(
            "type filter (ACCOUNT) sorted by updated at",
            changelist,
            {"linked_type": "ACCOUNT", "o": "-5"},
        ),
        Page(
            "search by key (external_id) sorted by updated at",
            changelist,
            {"q": "external_id", "o": "-5"},
        ),
        Page(
            "search by a word in a value (fang) sorted by updated at",
            changelist,
            {"q": "fang", "o": "-5"},
        ),
        Page("change page", f"{changelist}{row_pk}/change/", {}),
        Page(
            "history (one object)",
            "/admin/metadata/metadatachange/",
            {"object_id": COUNTERPART_ONE, "linked_type": "COUNTERPART"},
        ),
    ]


def options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="drop and build the database")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def configure(database_url: str) -> None:
    """This process becomes the server: production-like settings, no query log."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "metadata_gateway.settings",
            "DATABASE_URL": database_url,
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "false",
            "REQUEST_LOG": "false",
        }
    )
    os.chdir(PROJECT_DIR)
    import django

    django.setup()


def needs_build(database_url: str, rows: int) -> bool:
    try:
        return database.count_rows(database_url) < rows
    except Exception:  # no database yet, or no table: build it
        return True


def prepare(database_url: str, rows: int, rebuild: bool) -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connections

    from metadata.models import Counterpart

    build = rebuild or needs_build(database_url, rows)
    if build:
        log(f"== building {database.split_url(database_url)[1]} with {rows:,} metadata rows")
        database.recreate(database_url)
    started = time.monotonic()
    call_command("migrate", "--noinput", verbosity=0)
    content_type_id = ContentType.objects.get_for_model(Counterpart).id
    connections.close_all()
    if build:
        call_command("loaddata", str(PROJECT_DIR / "fixtures" / "demo.json"), verbosity=0)
        connections.close_all()
        found = database.fill_to(database_url, rows=rows, content_type_id=content_type_id)
        log(f"   {found:,} rows in {time.monotonic() - started:.0f} s")
    else:
        log(f"== reusing {database.split_url(database_url)[1]} (migrated)")
        if database.spread_write_times(database_url, content_type_id=content_type_id):
            log(f"   the filler's write times spread in {time.monotonic() - started:.0f} s")


def superuser() -> Any:
    from metadata.models import User

    user = User.objects.filter(email=SUPERUSER).first()
    if user is None:
        user = User.objects.create_superuser(SUPERUSER, secrets.token_urlsafe(16))
    return user


def write_demo_metadata(user: Any) -> None:
    """A few keys on demo objects of every identifier shape, written through the services
    (so they have a history too); the same values each run, so a reused database keeps them."""
    from metadata import services
    from metadata.linkables import by_name
    from metadata.models import Door
    from metadata.principals import Principal
    from metadata.selectors import find_target

    principal = Principal.for_user(user)
    context = services.WriteContext(actor_id=user.pk, door=Door.ADMIN)
    for type_name, identifier, key, value in DEMO_METADATA:
        target = find_target(
            linkable=by_name(type_name), identifier=identifier, principal=principal
        )
        services.set_key(target=target, key=key, value=value, context=context)


def client_for(user: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def filler_row() -> tuple[str, int]:
    """A filler counterpart's identifier and the pk of one of its rows, far into the table."""
    from metadata.models import Metadata

    row = (
        Metadata.objects.filter(value=f"filler_{FILLER_NUMBER}", key="external_id")
        .values_list("object_id", "pk")
        .first()
    )
    if row is None:
        raise SystemExit(f"filler row {FILLER_NUMBER} is missing: run with --rebuild")
    return row[0], row[1]


def listed(response: Any) -> str:
    """How many rows the page listed and the count it gave, when it is a changelist."""
    context = response.context
    cl = context.get("cl") if context is not None else None
    if cl is None:
        return ""
    shown = len(cl.result_list)
    label = getattr(cl.paginator, "count_label", None) or f"{cl.result_count:,}"
    return f"{shown} shown of {label}"


@dataclass(frozen=True)
class Timing:
    page: Page
    wall_ms: float  # the best run's
    cpu_ms: float  # this process's CPU in its least busy run (PostgreSQL's is not in it)
    listed: str


def measure(client: Any, page: Page, runs: int) -> Timing:
    response = client.get(page.path, page.params)  # warm-up: templates, content types
    if response.status_code != 200:
        raise SystemExit(f"{page.name}: {page.path} {page.params} answered {response.status_code}")
    wall = cpu = float("inf")
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(page.path, page.params)
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - cpu_started)
    return Timing(page, wall * 1000, cpu * 1000, listed(response))


def table(results: list[Timing], *, runs: int, markdown: bool) -> str:
    if markdown:
        lines = [
            f"| page | best of {runs}, ms | Python CPU, ms | listed |",
            "|---|---:|---:|---|",
        ]
        lines += [
            f"| {t.page.name} | {t.wall_ms:.0f} | {t.cpu_ms:.0f} | {t.listed} |" for t in results
        ]
        return "\n".join(lines)
    width = max(len(t.page.name) for t in results)
    lines = [f"{'page':<{width}}  {'best ms':>8}  {'CPU ms':>7}  listed"]
    lines += [
        f"{t.page.name:<{width}}  {t.wall_ms:8.1f}  {t.cpu_ms:7.1f}  {t.listed}" for t in results
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = options(argv)
    database_url = os.environ.get("BENCH_ADMIN_DATABASE_URL") or DEFAULT_URL
    configure(database_url)
    prepare(database_url, args.rows, args.rebuild)
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client records templates and context
    user = superuser()
    write_demo_metadata(user)
    client = client_for(user)
    filler_uuid, row_pk = filler_row()
    load = os.getloadavg()[0]
    results = []
    for page in pages(filler_uuid, row_pk):
        timing = measure(client, page, args.runs)
        log(f"   {page.name}: {timing.wall_ms:.1f} ms, CPU {timing.cpu_ms:.1f} ms, {timing.listed}")
        results.append(timing)
    rows = database.count_rows(database_url)
    print(
        f"Admin pages at {rows:,} metadata rows, PostgreSQL, Django test client in-process, "
        f"best of {args.runs} (load average {load:.1f} at the start)"
    )
    print(table(results, runs=args.runs, markdown=args.markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
