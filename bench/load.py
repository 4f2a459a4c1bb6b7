"""The load generator: wrk, in a process of its own, with bench/lua/door.lua."""

from __future__ import annotations

import itertools
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "lua" / "door.lua"
_nonces = itertools.count(1)


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    bad: int
    socket_errors: int

    def to_json(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class Measure:
    """The median of several runs, each metric on its own."""

    runs: list[Run]

    @property
    def rps(self) -> float:
        return statistics.median(r.rps for r in self.runs)

    @property
    def p50_ms(self) -> float:
        return statistics.median(r.p50_ms for r in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(r.p99_ms for r in self.runs)

    @property
    def bad(self) -> int:
        return sum(r.bad + r.socket_errors for r in self.runs)

    def to_json(self) -> dict[str, object]:
        return {
            "rps": round(self.rps, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "bad_answers": self.bad,
            "runs": [r.to_json() for r in self.runs],
        }


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit(
            "wrk is not installed: apt-get update -qq && apt-get install -y -qq wrk "
            "(make bench does this)"
        )
    return path


def wrk_version() -> str:
    answer = subprocess.run([wrk_path(), "-v"], capture_output=True, text=True, check=False)
    text = (answer.stdout + answer.stderr).strip().splitlines()
    return text[0].split(" Copyright")[0] if text else "wrk"


@dataclass(frozen=True)
class Load:
    base_url: str
    token: str
    identifier: str
    connections: int = 16
    threads: int = 1
    duration: float = 8.0

    def run(
        self,
        mode: str,
        path: str,
        *,
        seconds: float | None = None,
        identifier: str = "",
        batch: int = 1,
    ) -> Run:
        """One wrk run of `seconds` (the configured duration by default). A batch mode writes
        `batch` objects per request, the next window of the `identifier` list each time."""
        seconds = seconds if seconds is not None else self.duration
        nonce = f"{int(time.time())}{next(_nonces):04d}"
        with tempfile.NamedTemporaryFile("w", suffix=".ids") as identifiers:
            # A file: thousands of identifiers are longer than one argument may be.
            identifiers.write(identifier or self.identifier)
            identifiers.flush()
            return self._wrk(mode, path, seconds, f"@{identifiers.name}", nonce, batch)

    def _wrk(
        self, mode: str, path: str, seconds: float, identifiers: str, nonce: str, batch: int
    ) -> Run:
        command = [
            wrk_path(),
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(SCRIPT),
            self.base_url,
            "--",
            mode,
            path,
            self.token,
            identifiers,
            nonce,
            str(batch),
            str(self.threads),
        ]
        answer = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 120, check=False
        )
        lines = [line for line in answer.stdout.splitlines() if line.startswith("{")]
        if answer.returncode != 0 or not lines:
            raise RuntimeError(
                f"wrk failed ({answer.returncode}) for {mode} {path}:\n"
                f"{answer.stdout}\n{answer.stderr}"
            )
        data = json.loads(lines[-1])
        seconds_run = data["duration_us"] / 1e6
        return Run(
            requests=data["requests"],
            seconds=round(seconds_run, 3),
            rps=data["requests"] / seconds_run if seconds_run else 0.0,
            p50_ms=data["p50_us"] / 1000,
            p90_ms=data["p90_us"] / 1000,
            p99_ms=data["p99_us"] / 1000,
            mean_ms=round(data["mean_us"] / 1000, 3),
            bad=data["bad"],
            socket_errors=data["connect_errors"]
            + data["read_errors"]
            + data["write_errors"]
            + data["timeouts"],
        )

    def measure(self, mode: str, path: str, runs: int) -> Measure:
        return Measure(runs=[self.run(mode, path) for _ in range(runs)])
