"""The benchmark's database: a PostgreSQL database of its own, rebuilt on every run.

It is dropped and created again (so runs do not inherit each other's rows or bloat),
migrated, loaded with the demo data, and filled with filler counterparts whose metadata rows
are made by SQL (`INSERT ... SELECT generate_series`), ten keys each, like the benchmark's
own document. Only a database whose name contains "bench" is ever dropped.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/metadata_bench"
FILLER_ENTITY = "3a9c5e1e-0000-4000-8000-000000000002"  # Entity Two of the demo data
FILLER_KEYS = (
    "external_id",
    "comment",
    "country",
    "currency",
    "tier",
    "owner",
    "tags",
    "limits",
    "active",
    "seq",
)


def split_url(url: str) -> tuple[dict[str, str | int], str]:
    """Connection arguments for the server (without a database) and the database's name."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise SystemExit(f"The benchmark needs PostgreSQL; DATABASE_URL is {parts.scheme}://...")
    name = unquote(parts.path.lstrip("/"))
    server: dict[str, str | int] = {"host": parts.hostname or "127.0.0.1"}
    if parts.port:
        server["port"] = parts.port
    if parts.username:
        server["user"] = unquote(parts.username)
    if parts.password:
        server["password"] = unquote(parts.password)
    return server, name


def recreate(url: str) -> None:
    """Drop (when it exists) and create the benchmark's database."""
    server, name = split_url(url)
    if "bench" not in name:
        raise SystemExit(
            f"Refusing to drop the database {name!r}: the benchmark rebuilds its database on "
            "every run, so DATABASE_URL must name one of its own (with 'bench' in the name)."
        )
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as conn:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        conn.execute(drop.format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def server_version(url: str) -> str:
    server, name = split_url(url)
    with psycopg.connect(dbname=name, **server) as conn:
        row = conn.execute("SELECT version()").fetchone()
    return row[0] if row else "unknown"


def count_rows(url: str) -> int:
    server, name = split_url(url)
    with psycopg.connect(dbname=name, **server) as conn:
        row = conn.execute("SELECT count(*) FROM metadata_metadata").fetchone()
    return int(row[0]) if row else 0


def fill_to(url: str, *, rows: int, content_type_id: int) -> int:
    """Add filler rows until `metadata_metadata` holds `rows` rows; ANALYZE; the count.

    Filler row n is key n % 10 of filler counterpart n // 10 (a real Counterpart of Entity
    Two, so lookups join to it as to any other); `external_id` values are all different.
    Each counterpart's keys were written together, one second after the previous
    counterpart's, as separate writes leave them: rows written by one statement would all
    share one time, which no store written through its doors holds and which no index on
    that time can order (the admin sorts by it).
    """
    server, name = split_url(url)
    with psycopg.connect(dbname=name, **server) as conn:
        conn.execute("SET synchronous_commit = off")
        current = conn.execute("SELECT count(*) FROM metadata_metadata").fetchone()[0]
        filler = conn.execute(
            "SELECT count(*) FROM metadata_metadata WHERE object_id IN "
            "(SELECT id::text FROM metadata_counterpart WHERE name LIKE 'bench filler %')"
        ).fetchone()[0]
        missing = rows - current
        if missing > 0:
            first, last = filler, filler + missing - 1
            params = {
                "first": first,
                "last": last,
                "entity": FILLER_ENTITY,
                "ct": content_type_id,
                "keys": list(FILLER_KEYS),
            }
            conn.execute(
                """
                INSERT INTO metadata_counterpart (id, entity_id, name)
                SELECT md5('bench-filler-' || o)::uuid, %(entity)s::uuid, 'bench filler ' || o
                FROM generate_series(%(first)s::bigint / 10, %(last)s::bigint / 10) AS o
                ON CONFLICT (id) DO NOTHING
                """,
                params,
            )
            conn.execute(
                """
                INSERT INTO metadata_metadata
                    (content_type_id, object_id, key, value, created_at, updated_at)
                SELECT %(ct)s,
                       md5('bench-filler-' || (n / 10))::uuid::text,
                       (%(keys)s::text[])[n %% 10 + 1],
                       CASE n %% 10
                           WHEN 0 THEN to_jsonb('filler_' || (n / 10))
                           WHEN 7 THEN jsonb_build_object('daily', n %% 1000, 'monthly', n)
                           WHEN 8 THEN to_jsonb(n %% 2 = 0)
                           ELSE to_jsonb((%(keys)s::text[])[n %% 10 + 1] || '-' || n)
                       END,
                       now() - make_interval(secs => %(last)s::bigint / 10 - n / 10),
                       now() - make_interval(secs => %(last)s::bigint / 10 - n / 10)
                FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n
                """,
                params,
            )
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE metadata_metadata")
        conn.execute("ANALYZE metadata_counterpart")
        return int(conn.execute("SELECT count(*) FROM metadata_metadata").fetchone()[0])


def spread_write_times(url: str, *, content_type_id: int) -> bool:
    """Give the filler of a database built before `fill_to` spread its write times the
    times `fill_to` now writes (one second apart per counterpart), then compact the table
    as a fresh build leaves it; whether anything changed.

    Nothing happens when no write time is shared by more rows than one counterpart's keys.
    """
    server, name = split_url(url)
    with psycopg.connect(dbname=name, **server) as conn:
        shared = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM metadata_metadata GROUP BY updated_at"
            " HAVING count(*) > %s)",
            [len(FILLER_KEYS)],
        ).fetchone()
        if not (shared and shared[0]):
            return False
        conn.execute(
            """
            WITH filler AS (
                SELECT id::text AS object_id, substr(name, length('bench filler ') + 1)::bigint AS o
                FROM metadata_counterpart WHERE name LIKE 'bench filler %%'
            ), written AS (
                SELECT object_id, now() - make_interval(secs => max(o) OVER () - o) AS at
                FROM filler
            )
            UPDATE metadata_metadata m SET created_at = written.at, updated_at = written.at
            FROM written
            WHERE m.content_type_id = %(ct)s AND m.object_id = written.object_id
            """,
            {"ct": content_type_id},
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM FULL ANALYZE metadata_metadata")
        return True
