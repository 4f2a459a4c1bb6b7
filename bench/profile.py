"""Profile one door in-process, over the database `make bench` left behind.

    .venv/bin/pip install pyinstrument          # a tool, not a dependency of the project
    .venv/bin/python -m bench.profile rest_get  # floor_get, rest_put, graphql_update, ...

Requests go through Django's test client (the whole middleware stack and the door, no
gunicorn, no network), after a warm-up; pyinstrument's tree of the slow frames is printed,
with CPU and wall time per request. Wall minus CPU is time spent waiting on PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from typing import Any

from bench import database
from bench.doors import (
    BATCH_OBJECTS,
    DOCUMENT,
    FLOOR_PATH,
    GRAPHQL_QUERY,
    LOOKUP,
    PARTNER_EMAIL,
    REST_PATH,
    SYNC_OBJECTS,
    WRITE_FLOOR_PATH,
    filler_identifier,
    graphql_update_body,
)
from bench.run import server_env


def requests_by_door(client: Any) -> dict[str, Callable[[], Any]]:
    counter = iter(range(10**9))

    def seq() -> str:
        return f"profile-{time.time()}-{next(counter)}"

    def graphql(body: dict[str, Any]) -> Any:
        return client.post("/v1/graphql/", json.dumps(body), content_type="application/json")

    def window() -> list[str]:
        """The next 100 objects of the sync `make bench`'s batch rows write."""
        first = next(counter) % (SYNC_OBJECTS // BATCH_OBJECTS) * BATCH_OBJECTS
        return [filler_identifier(n) for n in range(first, first + BATCH_OBJECTS)]

    def rest_batch() -> Any:
        value = seq()
        items = [{"id": one, "metadata": {"seq": value}} for one in window()]
        return client.patch(
            "/v1/counterparts/partner_metadata",
            json.dumps({"data": items}),
            content_type="application/json",
        )

    def graphql_batch() -> Any:
        value = json.dumps(seq())
        items = [
            {"linkedObjectType": "COUNTERPART", "identifier": one, "key": "seq", "value": value}
            for one in window()
        ]
        query = (
            "mutation Batch($input: [MetadataInput!]!) "
            "{ updateMetadataBatch(input: $input) { metadata { key } } }"
        )
        return graphql({"query": query, "variables": {"input": items}})

    return {
        "floor_get": lambda: client.get(FLOOR_PATH),
        "floor_patch": lambda: client.patch(
            WRITE_FLOOR_PATH,
            json.dumps({"metadata": {"seq": seq()}}),
            content_type="application/json",
        ),
        "rest_get": lambda: client.get(REST_PATH),
        "rest_put": lambda: client.put(
            REST_PATH,
            json.dumps({"metadata": {**DOCUMENT, "seq": seq()}}),
            content_type="application/json",
        ),
        "rest_patch": lambda: client.patch(
            REST_PATH, json.dumps({"metadata": {"seq": seq()}}), content_type="application/json"
        ),
        "rest_lookup": lambda: client.get(LOOKUP.path),
        "graphql_metadata": lambda: graphql({"query": GRAPHQL_QUERY}),
        "graphql_update": lambda: graphql(graphql_update_body(seq())),
        "rest_batch": rest_batch,
        "graphql_batch": graphql_batch,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("door", nargs="+")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--interval", type=float, default=0.0005, help="sampling, seconds")
    args = parser.parse_args()
    try:
        from pyinstrument import Profiler
    except ImportError as error:
        raise SystemExit("pip install pyinstrument into .venv first") from error

    os.environ.update(server_env(os.environ.get("DATABASE_URL") or database.DEFAULT_URL))
    import django

    django.setup()
    from django.test import Client

    from metadata.models import User
    from metadata.tokens import access_token_for

    token = str(access_token_for(User.objects.get(email=PARTNER_EMAIL)))
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    doors = requests_by_door(client)
    for name in args.door:
        send = doors[name]
        for _ in range(50):
            answer = send()
            assert answer.status_code == 200 and b'"errors"' not in answer.content, answer.content
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(args.requests):
            send()
        cpu = (time.process_time() - cpu) / args.requests * 1000
        wall = (time.perf_counter() - wall) / args.requests * 1000
        profiler = Profiler(interval=args.interval)
        profiler.start()
        for _ in range(args.requests):
            send()
        profiler.stop()
        print(f"== {name}: {cpu:.2f} ms CPU, {wall:.2f} ms wall per request (unprofiled)")
        print(profiler.output_text(unicode=False, color=False))


if __name__ == "__main__":
    main()
