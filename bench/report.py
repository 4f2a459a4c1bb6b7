"""The tables `make bench` prints (and the machine it ran on), from its results."""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path
from typing import Any

from bench import database
from bench.doors import BULK_KEYS_TARGET, BULK_P50_TARGET, SWEEP_TARGETS
from bench.load import wrk_version


def machine_info(database_url: str) -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    import django

    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": database.server_version(database_url),
        "kernel": platform.release(),
        "load_generator": wrk_version(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def bulk_lines(results: dict[str, Any]) -> list[str]:
    """Issue 21's rows: each batch door's keys/s and p50 against single PATCH's."""
    single = results["doors"].get("rest_patch")
    batches = [d for d in results["door_list"] if d.get("keys", 1) > 1]
    if not single or not batches:
        return []
    lines = [
        "",
        f"Bulk: keys/s and p50 against single REST PATCH ({single['rps']:.1f} keys/s, "
        f"p50 {single['p50_ms']:.2f} ms)",
        "",
        f"{'door':<30}{'keys/s':>9}{'x keys/s':>10}{'p50 ms':>9}{'x p50':>8}  targets",
    ]
    for door in batches:
        row = results["doors"][door["key"]]
        keys, p50 = row["rps"] * door["keys"], row["p50_ms"] / single["p50_ms"]
        ratio = keys / single["rps"]
        goal = (
            f">= {BULK_KEYS_TARGET}x {verdict(ratio >= BULK_KEYS_TARGET)}, "
            f"p50 <= {BULK_P50_TARGET}x {verdict(p50 <= BULK_P50_TARGET)}"
        )
        lines.append(
            f"{door['label']:<30}{keys:>9.0f}{ratio:>9.1f}x{row['p50_ms']:>9.2f}{p50:>7.1f}x  "
            + goal
        )
    return lines


def format_tables(results: dict[str, Any]) -> str:
    cfg = results["config"]
    floor_rps = results["doors"]["floor_get"]["rps"]
    write_floor = results["doors"].get("floor_patch")
    foreign = results.get("foreign_cpu_percent", {})
    largest = foreign.get(str(results["table_rows"]), [])
    lines = [
        f"Throughput at {results['table_rows']:,} metadata rows: {cfg['workers']} gunicorn "
        f"workers, wrk {cfg['connections']} connections x {cfg['duration_s']:g} s, "
        f"median of {cfg['runs']} runs (in rounds over every door)",
        "CPU taken by processes outside the benchmark during the rounds: "
        + ", ".join(f"{p:.0f}%" for p in largest),
        "",
        f"{'door':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'x floor':>9}"
        f"{'x write floor':>15}  target",
    ]
    for door in results["door_list"]:
        row = results["doors"][door["key"]]
        ratio = row["rps"] / floor_rps
        target = door["target"]
        goal = f">= {target:g}x {verdict(ratio >= target)}" if target else ""
        to_write_floor = (
            f"{row['rps'] / write_floor['rps']:>15.2f}"
            if write_floor and door.get("writes")
            else " " * 15
        )
        lines.append(
            f"{door['label']:<24}{row['rps']:>9.1f}{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}"
            f"{ratio:>9.2f}{to_write_floor}  {goal}".rstrip()
        )
    for key, why in results["skipped"].items():
        lines.append(f"{key:<24}skipped: {why}")
    lines += bulk_lines(results)
    sizes = results["sizes"]
    lines += ["", "Size sweep, p50 ms (median of runs)", ""]
    lines.append(
        "(other processes' CPU share per size: "
        + "; ".join(
            f"{size:,}: " + ", ".join(f"{p:.0f}%" for p in foreign.get(str(size), []))
            for size in sizes
        )
        + ")"
    )
    columns = "".join(f"{size:>12,}" for size in sizes)
    lines.append(f"{'door':<24}{columns}{'largest/smallest':>18}{'vs floor':>10}  target")
    for key, sweep in results["sweep"].items():
        cells = "".join(f"{sweep['p50_ms'][str(size)]:>12.2f}" for size in sizes)
        ratio, relative = sweep["ratio"], sweep["ratio_vs_floor"]
        target = SWEEP_TARGETS.get(key)
        goal = f"<= {target:g}x {verdict(ratio <= target)}" if target else ""
        if target and (ratio <= target) != (relative <= target):
            goal += f" (vs floor: {verdict(relative <= target)})"
        lines.append(
            f"{sweep['label']:<24}{cells}{ratio:>17.2f}x{relative:>9.2f}x  {goal}".rstrip()
        )
    memory = results.get("memory")
    if memory:
        lines += [
            "",
            f"Worker RSS before and after {memory['requests']:,} REST GETs (no recycling)",
            "",
            f"{'worker pid':<12}{'before MiB':>12}{'after MiB':>12}{'change':>10}",
        ]
        for worker in memory["workers"]:
            lines.append(
                f"{worker['pid']:<12}{worker['rss_before_kib'] / 1024:>12.1f}"
                f"{worker['rss_after_kib'] / 1024:>12.1f}{worker['change_pct']:>9.2f}%"
            )
        lines.append(
            f"{'all':<12}{memory['total_before_kib'] / 1024:>12.1f}"
            f"{memory['total_after_kib'] / 1024:>12.1f}{memory['total_change_pct']:>9.2f}%"
            f"  target within 5% per worker: {verdict(memory['max_worker_change_pct'] <= 5)}"
        )
    machine = results["machine"]
    lines += [
        "",
        f"Machine: {machine['cores']} cores, {machine['cpu']}; Python {machine['python']}, "
        f"Django {machine['django']}, {machine['postgresql'].split(' on ')[0]}; "
        f"{machine['load_generator']}; {machine['date']}",
    ]
    return "\n".join(lines)
