"""Where a request's CPU goes under load: gunicorn's workers, PostgreSQL, the load generator.

    .venv/bin/python -m bench.cpu [--connections 16] [--duration 5] [--workers 4] [DOOR ...]

Over the database `make bench` left behind, one wrk run per door (every door of the table
by default), reading the CPU time the gunicorn workers and the database's backends spent,
divided by the requests answered: milliseconds of CPU per request. Throughput ratios say
*that* a door costs more than the floor; this says on which side of the connection.
"""

from __future__ import annotations

import argparse
import os

from bench import database
from bench.doors import BATCHES, DOORS, IDENTIFIER, PARTNER_EMAIL
from bench.load import Load
from bench.run import server_env
from bench.server import Gunicorn, backend_pids, busy_seconds, cpu_seconds


def cpu_of(pids: list[int]) -> dict[int, float]:
    return {pid: cpu_seconds(pid) for pid in pids}


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(after[pid] - before.get(pid, 0.0) for pid in after)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cpu")
    parser.add_argument("doors", nargs="*", help="door keys, e.g. floor_get rest_get")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or database.DEFAULT_URL
    env = server_env(url)
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connections

    from metadata.models import User
    from metadata.tokens import access_token_for

    token = str(access_token_for(User.objects.get(email=PARTNER_EMAIL)))
    connections.close_all()
    name = database.split_url(url)[1]
    doors = [door for door in (*DOORS, *BATCHES) if door.key in args.doors or not args.doors]
    server = Gunicorn(env=env, workers=args.workers)
    server.start()
    try:
        load = Load(server.url, token, IDENTIFIER, args.connections, 1, args.duration)
        print(f"{'door':24} {'req/s':>8} {'workers':>8} {'postgres':>9} {'machine':>8}  ms/req")
        for door in doors:
            batch = {"identifier": door.identifiers, "batch": door.keys}
            load.run(door.mode, door.path, seconds=1, **batch)  # warm-up
            workers, backends = cpu_of(server.worker_pids()), cpu_of(backend_pids(name))
            busy = busy_seconds()
            run = load.run(door.mode, door.path, **batch)
            per_request = 1000 / run.requests
            print(
                f"{door.label:24} {run.rps:8.0f}"
                f" {spent(workers, cpu_of(server.worker_pids())) * per_request:8.3f}"
                f" {spent(backends, cpu_of(backend_pids(name))) * per_request:9.3f}"
                f" {(busy_seconds() - busy) * per_request:8.3f}"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
