"""`make bench` (issue 7): every door's throughput and latency against a floor.

    .venv/bin/python -m bench.run [--connections 16] [--duration 8] [--runs 3] ...

1. Rebuilds a PostgreSQL database of its own (DATABASE_URL, default
   postgres://postgres@127.0.0.1:5432/metadata_bench), migrates it, loads the demo data.
2. Starts gunicorn (metadata_gateway/gunicorn.py, WEB_CONCURRENCY workers, --preload,
   DEBUG off, throttling effectively off, no worker recycling, the floor routed by
   `bench.settings`).
3. Drives it with wrk from a separate process (bench/lua/door.lua): for each table size
   (10^3, 10^5, 10^6 metadata rows, made by SQL), REST GET, updateMetadata and the REST lookup
   (when the route exists); at the largest size every door, and the floor. Median of N runs.
4. Measures the workers' RSS before and after 20,000 REST GETs.
5. Prints the tables and writes bench/results.json and bench/results.png.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from bench import database
from bench.doors import (
    BATCHES,
    DOCUMENT,
    DOORS,
    FLOOR,
    GRAPHQL_QUERY,
    IDENTIFIER,
    LOOKUP,
    PARTNER_EMAIL,
    REST_PATH,
    SPREAD,
    SPREAD_OBJECTS,
    SWEEP_KEYS,
    SWEEP_TARGETS,
    SYNC_OBJECTS,
    WRITE_FLOOR,
    WRITE_FLOOR_PATH,
    graphql_update_body,
    in_round_order,
)
from bench.load import Load, Measure, Run
from bench.report import format_tables, machine_info
from bench.server import PROJECT_DIR, CpuShare, Gunicorn, backend_pids, rss_kib

BENCH_DIR = PROJECT_DIR / "bench"

_STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - _STARTED:5.0f} s] {message}", flush=True)


def options(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options; each also from the environment (BENCH_*), for `make bench`."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description="make bench")
    env = os.environ.get
    parser.add_argument("--connections", type=int, default=int(env("BENCH_CONNECTIONS", 16)))
    parser.add_argument("--duration", type=float, default=float(env("BENCH_DURATION", 8)))
    parser.add_argument("--runs", type=int, default=int(env("BENCH_RUNS", 3)))
    parser.add_argument(
        "--threads",
        type=int,
        default=int(env("BENCH_THREADS", 1)),
        help="wrk threads (1 leaves the cores to the server)",
    )
    parser.add_argument("--workers", type=int, default=int(env("BENCH_WORKERS", 4)))
    parser.add_argument(
        "--sizes",
        default=env("BENCH_SIZES", "1000,100000,1000000"),
        help="metadata table sizes of the sweep, comma-separated",
    )
    parser.add_argument(
        "--memory-requests", type=int, default=int(env("BENCH_MEMORY_REQUESTS", 20000))
    )
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds per door, unrecorded")
    parser.add_argument("--output", default=str(BENCH_DIR / "results.json"))
    parser.add_argument("--plot", default=str(BENCH_DIR / "results.png"))
    args = parser.parse_args(argv)
    args.sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    return args


def server_env(database_url: str) -> dict[str, str]:
    """The environment of the server and of this process (the same JWT key for both)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",  # the application's, and the floors
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback, as behind a TLS proxy
        "REQUEST_LOG": "false",
        "THROTTLE_USER_RATE": "100000000/min",
        "THROTTLE_ANONYMOUS_RATE": "100000000/min",
        # Throttling is effectively off (the rates above), so counting per worker is moot.
        "THROTTLE_PER_PROCESS": "true",
        "PYTHONUNBUFFERED": "1",
    }


def prepare_database(database_url: str) -> tuple[str, int]:
    """Rebuild, migrate, load the demo data; the partner's token and the content type id."""
    database.recreate(database_url)
    import django
    from django.core.management import call_command

    django.setup()
    from django.contrib.contenttypes.models import ContentType

    from metadata.models import Counterpart, User
    from metadata.tokens import access_token_for

    call_command("migrate", "--noinput", verbosity=0)
    call_command("loaddata", str(PROJECT_DIR / "fixtures" / "demo.json"), verbosity=0)
    token = str(access_token_for(User.objects.get(email=PARTNER_EMAIL)))
    content_type_id = ContentType.objects.get_for_model(Counterpart).id
    from django.db import connections

    connections.close_all()
    return token, content_type_id


def database_options() -> dict[str, Any]:
    from django.conf import settings

    return dict(settings.DATABASES["default"].get("OPTIONS", {}))


def preflight(base: str, token: str) -> dict[str, str]:
    """Each door answers correctly once, before any load (and the document is seeded).

    Returns the doors that do not exist (the lookup route may not be built yet), with why.
    """
    auth = {"Authorization": f"Bearer {token}"}
    put = requests.put(base + REST_PATH, json={"metadata": DOCUMENT}, headers=auth, timeout=10)
    assert put.status_code == 200 and put.json()["metadata"] == DOCUMENT, put.text
    checks: dict[str, Callable[[], requests.Response]] = {
        "floor_get": lambda: requests.get(base + FLOOR.path, headers=auth, timeout=10),
        "rest_get": lambda: requests.get(base + REST_PATH, headers=auth, timeout=10),
        "rest_patch": lambda: requests.patch(
            base + REST_PATH, json={"metadata": {"seq": "preflight"}}, headers=auth, timeout=10
        ),
        "floor_patch": lambda: requests.patch(
            base + WRITE_FLOOR_PATH,
            json={"metadata": {"seq": "preflight-0"}},
            headers=auth,
            timeout=10,
        ),
        "graphql_metadata": lambda: requests.post(
            base + "/v1/graphql/", json={"query": GRAPHQL_QUERY}, headers=auth, timeout=10
        ),
        "graphql_update": lambda: requests.post(
            base + "/v1/graphql/", json=graphql_update_body("preflight-2"), headers=auth, timeout=10
        ),
    }
    for key, send in checks.items():
        answer = send()
        body = answer.json()
        assert answer.status_code == 200 and "errors" not in body, f"{key}: {answer.text}"
    floor = requests.get(base + FLOOR.path, headers=auth, timeout=10).json()
    rest = requests.get(base + REST_PATH, headers=auth, timeout=10).json()
    assert floor == rest and len(rest["metadata"]) == len(DOCUMENT), (floor, rest)
    missing = {}
    lookup = requests.get(base + LOOKUP.path, headers=auth, timeout=10)
    try:
        found = lookup.status_code == 200 and lookup.json()["data"][0]["id"] == IDENTIFIER
    except (ValueError, KeyError, IndexError, TypeError):
        found = False
    if not found:
        missing["rest_lookup"] = f"GET {LOOKUP.path} answered {lookup.status_code}"
    return missing


def load_average() -> float:
    """The 1-minute load average: other work on the machine skews every number."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def measure_memory(server: Gunicorn, load: Load, requests_count: int, rps: float) -> dict[str, Any]:
    """Each worker's RSS before and after at least `requests_count` REST GETs.

    wrk runs for a time, not a count: runs long enough for the count at the throughput
    measured (`rps`), and again for what is missing. No worker may be replaced meanwhile
    (gunicorn runs with max_requests 0).
    """
    before_pids = server.worker_pids()
    before = {pid: rss_kib(pid) for pid in before_pids}
    done, bad = 0, 0
    while done < requests_count:
        seconds = max(1.0, (requests_count - done) / max(rps, 1.0) * 1.1)
        run = load.run("get", REST_PATH, seconds=seconds)
        done, bad = done + run.requests, bad + run.bad + run.socket_errors
        rps = run.rps or rps
    after_pids = server.worker_pids()
    if after_pids != before_pids:
        raise RuntimeError(f"workers changed during the memory run: {before_pids} -> {after_pids}")
    after = {pid: rss_kib(pid) for pid in after_pids}
    workers = [
        {
            "pid": pid,
            "rss_before_kib": before[pid],
            "rss_after_kib": after[pid],
            "change_pct": round(100 * (after[pid] - before[pid]) / before[pid], 2),
        }
        for pid in before_pids
    ]
    total_before, total_after = sum(before.values()), sum(after.values())
    return {
        "requests": done,
        "bad_answers": bad,
        "workers": workers,
        "total_before_kib": total_before,
        "total_after_kib": total_after,
        "total_change_pct": round(100 * (total_after - total_before) / total_before, 2),
        "max_worker_change_pct": max(abs(w["change_pct"]) for w in workers),
        "target_pct": 5.0,
    }


def main(argv: list[str] | None = None) -> int:
    args = options(argv)
    started = time.monotonic()
    database_url = os.environ.get("DATABASE_URL") or database.DEFAULT_URL
    env = server_env(database_url)
    os.environ.update(env)
    os.chdir(PROJECT_DIR)

    def stop_on_signal(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop_on_signal)

    load_before = load_average()
    log(f"== database {database.split_url(database_url)[1]}: rebuild, migrate, demo data")
    token, content_type_id = prepare_database(database_url)
    sizes = args.sizes
    rows = database.fill_to(database_url, rows=sizes[0], content_type_id=content_type_id)
    log(f"   {rows:,} metadata rows ({time.monotonic() - started:.0f} s)")

    server = Gunicorn(env=env, workers=args.workers)
    results: dict[str, Any] = {
        "config": {
            "workers": args.workers,
            "connections": args.connections,
            "wrk_threads": args.threads,
            "duration_s": args.duration,
            "runs": args.runs,
            "sizes": sizes,
            "database": database.split_url(database_url)[1],
            "object": f"counterparts/{IDENTIFIER}",
            "document_keys": len(DOCUMENT),
            "database_options": database_options(),
            "rounds": "each run is one round over every door of the table size",
        },
        "sizes": sizes,
        "table_rows": sizes[-1],
    }
    try:
        server.start()
        log(f"== gunicorn on {server.url}, workers {server.worker_pids()}")
        missing = preflight(server.url, token)
        doors = [*DOORS, *([] if "rest_lookup" in missing else [LOOKUP])]
        if sizes[-1] >= 10 * SPREAD_OBJECTS + len(DOCUMENT):  # the filler objects exist
            doors.append(SPREAD)
        if sizes[-1] >= 10 * SYNC_OBJECTS + len(DOCUMENT):
            doors.extend(BATCHES)
        results["skipped"] = missing
        for key, why in missing.items():
            log(f"   {key} skipped: {why}")
        load = Load(
            base_url=server.url,
            token=token,
            identifier=IDENTIFIER,
            connections=args.connections,
            threads=args.threads,
            duration=args.duration,
        )
        database_name = database.split_url(database_url)[1]
        share = CpuShare(
            own_pids=lambda: [
                server.process.pid if server.process else 0,
                *server.worker_pids(),
                *backend_pids(database_name),
            ]
        )
        if args.warmup > 0:
            for door in doors:
                if door.identifiers == "":  # filler objects exist once the table is filled
                    load.run(door.mode, door.path, seconds=args.warmup)

        sweep: dict[str, dict[int, Measure]] = {}
        table: dict[str, Measure] = {}
        for index, size in enumerate(sizes):
            if index:
                rows = database.fill_to(database_url, rows=size, content_type_id=content_type_id)
            largest = index == len(sizes) - 1
            measured = doors if largest else [d for d in doors if d.key in SWEEP_KEYS]
            log(f"== {rows:,} metadata rows: {', '.join(d.label for d in measured)}")
            # Rounds: every door once, then again: load from outside the benchmark (a shared
            # machine) then weighs on all doors alike rather than on whichever ran then.
            runs: dict[str, list[Run]] = {door.key: [] for door in measured}
            foreign = results.setdefault("foreign_cpu_percent", {}).setdefault(str(size), [])
            for round_ in range(args.runs):
                share.start()
                for door in in_round_order(measured):
                    runs[door.key].append(
                        load.run(door.mode, door.path, identifier=door.identifiers, batch=door.keys)
                    )
                foreign.append(share.foreign_percent())
                log(
                    f"   round {round_ + 1}/{args.runs}: other processes took "
                    f"{foreign[-1]:.0f}% of the CPU"
                )
            for door in measured:
                result = Measure(runs=runs[door.key])
                log(
                    f"   {door.label:<24}{result.rps:>9.1f} req/s  p50 {result.p50_ms:.2f} ms  "
                    f"p99 {result.p99_ms:.2f} ms"
                    + (f"  BAD ANSWERS: {result.bad}" if result.bad else "")
                )
                if door.key in SWEEP_KEYS:
                    sweep.setdefault(door.key, {})[size] = result
                if largest:
                    table[door.key] = result
            results.setdefault("rows_counted", {})[str(size)] = rows

        if args.memory_requests > 0:
            log(f"== memory: {args.memory_requests:,} REST GETs")
            results["memory"] = measure_memory(
                server, load, args.memory_requests, table["rest_get"].rps
            )
    finally:
        server.stop()

    labels = {door.key: door.label for door in (*DOORS, LOOKUP, SPREAD, *BATCHES)}
    results["door_list"] = [
        {"key": d.key, "label": d.label, "target": d.target, "writes": d.writes, "keys": d.keys}
        for d in doors
    ]
    results["doors"] = {key: measure.to_json() for key, measure in table.items()}
    floor_rps = table["floor_get"].rps
    for door in doors:
        row = results["doors"][door.key]
        row["ratio_to_floor"] = round(row["rps"] / floor_rps, 3)
        if door.writes and WRITE_FLOOR.key in table:
            row["ratio_to_write_floor"] = round(row["rps"] / table[WRITE_FLOOR.key].rps, 3)
    results["sweep"] = {}
    floor_p50 = {size: m.p50_ms for size, m in sweep["floor_get"].items()}
    for key, by_size in sweep.items():
        p50 = {str(size): round(m.p50_ms, 3) for size, m in by_size.items()}
        ratio = by_size[sizes[-1]].p50_ms / by_size[sizes[0]].p50_ms
        results["sweep"][key] = {
            "label": labels[key],
            "p50_ms": p50,
            "rps": {str(size): round(m.rps, 1) for size, m in by_size.items()},
            "ratio": round(ratio, 3),
            "ratio_vs_floor": round(ratio / (floor_p50[sizes[-1]] / floor_p50[sizes[0]]), 3),
            "target": SWEEP_TARGETS.get(key),
        }
    results["machine"] = machine_info(database_url)
    results["machine"]["load_average_1m"] = {"start": load_before, "end": load_average()}
    results["elapsed_s"] = round(time.monotonic() - started, 1)

    text = format_tables(results)
    results["table_text"] = text
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    from bench.plot import plot

    plot(results, Path(args.plot))
    log("")
    log(text)
    log(f"\nwrote {args.output} and {args.plot} in {results['elapsed_s']:.0f} s")
    bad = sum(row["bad_answers"] for row in results["doors"].values())
    if bad:
        log(f"WARNING: {bad} answers were errors or not 200; see {args.output}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
