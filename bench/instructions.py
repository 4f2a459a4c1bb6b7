"""Instructions per request of two checkouts' doors, counted by valgrind's callgrind.

    .venv/bin/python -m bench.instructions A_DIR B_DIR [--requests 200] [DOOR ...]

Throughput A/Bs (`bench.ab`) on a shared 2-core machine spread by 10% to 40% between rounds,
so they cannot tell a change of a few percent. An instruction count can: callgrind counts the
instructions a process executes, whatever else the machine is doing, and the same requests
give the same count to within a fraction of a percent. What it counts is the gateway's side
of a request, in-process (Django's test client, the whole middleware stack and the door, the
database driver), not PostgreSQL's: `bench.cpu` measures that side.

Each checkout runs under callgrind with its own .venv, over the database `make bench` left
behind (its schema is whichever checkout built it last; the doors read and write the same
rows on both sides). The measuring process warms every door up, then sends each door's
requests between two dumps (`callgrind_control --dump`), so each door's count is a dump of
its own. Both sides run at once, one per core.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

DOORS = ("floor_get", "rest_get", "graphql_metadata", "rest_put", "rest_patch", "graphql_update")
WARM_UP = 30
_DUMP = re.compile(r"^desc: Trigger: dump (?P<door>\S+)$|^summary: (?P<count>\d+)$")


def measure(checkout: Path, requests: int, doors: list[str]) -> None:
    """In the checkout's own interpreter, under callgrind: each door's requests in a dump."""
    sys.path[:] = [str(checkout), *(p for p in sys.path if Path(p) != Path(__file__).parent)]
    os.chdir(checkout)
    from bench import database
    from bench.run import server_env

    os.environ.update(server_env(os.environ.get("DATABASE_URL") or database.DEFAULT_URL))
    import django

    django.setup()
    from django.test import Client

    from bench.profile import requests_by_door
    from metadata.models import User
    from metadata.tokens import access_token_for

    try:  # where the bench keeps its partner has moved between checkouts
        from bench.doors import PARTNER_EMAIL
    except ImportError:
        from bench.run import PARTNER_EMAIL  # type: ignore[attr-defined,no-redef]

    token = str(access_token_for(User.objects.get(email=PARTNER_EMAIL)))
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    sends = requests_by_door(client)
    for door in doors:
        for _ in range(WARM_UP):
            sends[door]()

    def dump(label: str) -> None:
        command = ["callgrind_control", "--dump=" + label, str(os.getpid())]
        subprocess.run(command, check=True, capture_output=True)

    dump("setup")
    for door in doors:
        for _ in range(requests):
            sends[door]()
        dump(door)


def counts(directory: Path, side: str, requests: int) -> dict[str, float]:
    """Instructions per request of each door, from one side's dump files."""
    found: dict[str, float] = {}
    for path in directory.glob(f"{side}.*"):
        door = count = None
        for line in path.read_text(errors="replace").splitlines():
            match = _DUMP.match(line)
            if match and match["door"]:
                door = match["door"]
            elif match and match["count"]:
                count = int(match["count"])
        if door and door != "setup" and count is not None:
            found[door] = count / requests
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions")
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("doors", nargs="*", default=list(DOORS))
    parser.add_argument("--requests", type=int, default=200, help="per door")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:  # the child, under callgrind: `a` is its checkout
        measure(args.a.resolve(), args.requests, args.doors)
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        children = []
        for side, checkout in (("a", args.a.resolve()), ("b", args.b.resolve())):
            command = [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={directory / side}.%p",
                str(checkout / ".venv" / "bin" / "python"),
                str(Path(__file__).resolve()),
                "--measure",
                "--requests",
                str(args.requests),
                str(checkout),
                str(checkout),  # `b`, unused by the child
                *args.doors,
            ]
            log = (directory / f"{side}.log").open("w")
            children.append(subprocess.Popen(command, cwd=checkout, stdout=log, stderr=log))
        for child in children:
            if child.wait() != 0:
                print((directory / "a.log").read_text()[-3000:], file=sys.stderr)
                print((directory / "b.log").read_text()[-3000:], file=sys.stderr)
                return 1
        a, b = counts(directory, "a", args.requests), counts(directory, "b", args.requests)
    print(f"A: {args.a}\nB: {args.b}\n{args.requests} requests per door, in-process\n")
    print("| door | A instructions/request | B instructions/request | B/A |")
    print("|---|---:|---:|---:|")
    for door in args.doors:
        print(f"| {door} | {a[door]:,.0f} | {b[door]:,.0f} | {b[door] / a[door]:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
