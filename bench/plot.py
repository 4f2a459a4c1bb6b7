"""bench/results.png: throughput per door with the floor marked, and the size sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

COLOURS = {"floor": "#7f7f7f", "REST": "#2ca02c", "GraphQL": "#1f77b4"}


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    doors = results["door_list"]
    floor = results["doors"]["floor_get"]["rps"]
    labels = [d["label"].replace("GraphQL ", "GraphQL\n").replace(", ", ",\n") for d in doors]
    values = [results["doors"][d["key"]]["rps"] for d in doors]
    colours = [
        COLOURS["floor" if d["key"] == "floor_get" else d["label"].split()[0]] for d in doors
    ]

    figure, (bars, sweep) = plt.subplots(
        1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [3, 2]}
    )
    drawn = bars.bar(range(len(values)), values, color=colours)
    bars.axhline(floor, color="black", linestyle="--", linewidth=1, label="floor (a read)")
    write_floor = results["doors"].get("floor_patch")
    if write_floor:
        bars.axhline(
            write_floor["rps"], color="black", linestyle=":", linewidth=1, label="write floor"
        )
    label = "target"  # in the legend once
    for index, door in enumerate(doors):
        if door["target"]:
            y = door["target"] * floor
            bars.plot([index - 0.4, index + 0.4], [y, y], color="red", linewidth=2, label=label)
            label = "_"  # matplotlib leaves labels starting with "_" out of the legend
    for rect, value in zip(drawn, values, strict=True):
        bars.text(
            rect.get_x() + rect.get_width() / 2,
            value,
            f"{value:.0f}\n{value / floor:.2f}x",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    bars.set_xticks(range(len(values)), labels, fontsize=8, rotation=30, ha="right")
    bars.set_ylabel("requests/s (median of runs)")
    bars.set_ylim(0, max(values) * 1.25)
    bars.legend(loc="upper right", fontsize=8, ncols=3)
    cfg = results["config"]
    bars.set_title(
        f"Throughput at {results['table_rows']:,} rows "
        f"({cfg['workers']} workers, {cfg['connections']} connections)",
        fontsize=10,
    )

    sizes = results["sizes"]
    for key, data in results["sweep"].items():
        style = {"color": COLOURS["floor"], "linestyle": "--"} if key == "floor_get" else {}
        points = [data["p50_ms"][str(s)] for s in sizes]
        sweep.plot(sizes, points, marker="o", label=data["label"], **style)
    sweep.set_xscale("log")
    sweep.set_xlabel("metadata rows")
    sweep.set_ylabel("p50 latency, ms")
    sweep.set_ylim(bottom=0)
    sweep.set_title("Size sweep", fontsize=10)
    sweep.legend(fontsize=8)
    machine = results["machine"]
    figure.suptitle(
        f"metadata gateway: {machine['cores']} cores, {machine['cpu']}, "
        f"Python {machine['python']}, {machine['postgresql'].split(' on ')[0]}, "
        f"{machine['date'][:10]}",
        fontsize=9,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
