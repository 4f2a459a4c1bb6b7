"""`make bench` A/B: two checkouts of the gateway measured in interleaved rounds.

    .venv/bin/python -m bench.ab A_DIR B_DIR [--rounds 3] [--duration 8]

Each round runs `python -m bench.run` of A, then of B (each with its own .venv, at 10^6
metadata rows, one run per door), so load from outside the benchmark weighs on both alike.
Prints, per door, each side's requests per second (median of the rounds, with the spread of
the rounds) and B over A; then, per round, the reads against the floor GET and the batches'
keys/s against single REST PATCH. A change for speed stays only when B over A is further
from 1 than the spread.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.doors import BATCH_OBJECTS

DOORS = (
    "floor_get",
    "rest_get",
    "graphql_metadata",
    "floor_patch",
    "rest_put",
    "rest_patch",
    "graphql_update",
    "rest_batch",
    "graphql_batch",
)
# Per round, each door against another of the same run: (door, reference, scale, heading).
RATIOS = (
    ("rest_get", "floor_get", 1, "vs the floor GET"),
    ("graphql_metadata", "floor_get", 1, "vs the floor GET"),
    ("rest_batch", "rest_patch", BATCH_OBJECTS, "keys/s vs single REST PATCH"),
    ("graphql_batch", "rest_patch", BATCH_OBJECTS, "keys/s vs single REST PATCH"),
)


def run(checkout: Path, output: Path, args: argparse.Namespace) -> dict[str, float]:
    command = [
        str(checkout / ".venv" / "bin" / "python"),
        "-m",
        "bench.run",
        "--sizes",
        str(args.rows),
        "--runs",
        "1",
        "--duration",
        str(args.duration),
        "--memory-requests",
        "0",
        "--output",
        str(output),
        "--plot",
        str(output.with_suffix(".png")),
    ]
    print(f"== {checkout}", flush=True)
    subprocess.run(command, cwd=checkout, check=True)
    doors = json.loads(output.read_text())["doors"]
    return {key: doors[key]["rps"] for key in DOORS if key in doors}


def spread(values: list[float]) -> float:
    """(max - min) / median of one side's rounds."""
    return (max(values) - min(values)) / statistics.median(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab")
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=8)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="a directory for each run's results.json")
    args = parser.parse_args(argv)
    results: dict[str, list[dict[str, float]]] = {"a": [], "b": []}
    with tempfile.TemporaryDirectory() as scratch:
        kept = args.keep or Path(scratch)
        kept.mkdir(parents=True, exist_ok=True)
        for round_ in range(args.rounds):
            for side, checkout in (("a", args.a), ("b", args.b)):
                output = kept.resolve() / f"{side}{round_}.json"
                results[side].append(run(checkout.resolve(), output, args))
    print(f"\nA: {args.a}\nB: {args.b}\n{args.rounds} interleaved rounds, req/s\n")
    print("| door | A median | A spread | B median | B spread | B/A | rounds A | rounds B |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for door in DOORS:
        a = [r[door] for r in results["a"] if door in r]
        b = [r[door] for r in results["b"] if door in r]
        if not a or not b:
            continue
        ratio = statistics.median(b) / statistics.median(a)
        print(
            f"| {door} | {statistics.median(a):.0f} | {spread(a):.1%} | "
            f"{statistics.median(b):.0f} | {spread(b):.1%} | {ratio:.3f} | "
            f"{', '.join(f'{x:.0f}' for x in a)} | {', '.join(f'{x:.0f}' for x in b)} |"
        )
    print("\n| per round (median) | A | B |\n|---|---:|---:|")
    for door, reference, scale, heading in RATIOS:
        ratios = {
            side: [scale * r[door] / r[reference] for r in rounds if door in r and reference in r]
            for side, rounds in results.items()
        }
        if ratios["a"] and ratios["b"]:
            a, b = statistics.median(ratios["a"]), statistics.median(ratios["b"])
            print(f"| {door} {heading} | {a:.2f}x | {b:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
