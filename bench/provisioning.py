"""`make bench-import`: how long `import_objects` takes for 10^5 counterparts of one entity.

Issue 24's target: 100,000 lines in under 60 s on PostgreSQL. The run rebuilds a database of
its own (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/import_bench; only a name
with "bench" in it is dropped), migrates it, writes an NDJSON file (one entity, then N
counterparts of it) and times `manage.py import_objects` as an operator runs it (a process of
its own, startup included): once on the empty database (all created), once more (all
unchanged), and once with every name changed (all updated). It prints the figures and
drops the database.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from bench import database

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/import_bench"
ENTITY = "3a9c5e1e-0000-4000-8000-00000000be01"
TARGET_SECONDS = 60.0


def write_lines(path: Path, count: int, suffix: str) -> None:
    with path.open("w") as out:
        out.write(json.dumps({"type": "ENTITY", "id": ENTITY, "name": "Bench entity"}) + "\n")
        for n in range(count):
            counterpart = str(uuid.UUID(int=(0xBE << 120) | n))
            line = {"type": "COUNTERPART", "id": counterpart, "entity": ENTITY}
            line["name"] = f"Counterpart {n}{suffix}"
            out.write(json.dumps(line) + "\n")


def run_import(path: Path, env: dict[str, str]) -> tuple[float, dict]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", "import_objects", str(path), "--json", "--no-progress"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"import_objects failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return elapsed, json.loads(result.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000, help="counterparts to import")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    url = os.environ.get("BENCH_IMPORT_DATABASE_URL", DEFAULT_URL)
    database.recreate(url)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "metadata_gateway.settings"}
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            cwd=PROJECT_DIR,
            env=env,
            check=True,
        )
        with tempfile.TemporaryDirectory() as folder:
            rows = []
            for label, suffix in (("created", ""), ("unchanged", ""), ("updated", " (renamed)")):
                path = Path(folder) / f"{label}.ndjson"
                write_lines(path, args.lines, suffix)
                seconds, summary = run_import(path, env)
                assert summary[label] >= args.lines, summary
                rows.append((label, seconds))
        total = args.lines + 1
        print(f"import_objects, {total} lines (1 entity + {args.lines} counterparts), PostgreSQL")
        for label, seconds in rows:
            verdict = "ok" if seconds < TARGET_SECONDS * total / 100_001 else "OVER TARGET"
            print(f"  all {label:9s} {seconds:7.1f} s  {total / seconds:9.0f} lines/s  {verdict}")
    finally:
        if not args.keep:
            server, name = database.split_url(url)
            with psycopg.connect(dbname="postgres", autocommit=True, **server) as conn:
                drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                conn.execute(drop.format(sql.Identifier(name)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
