"""gunicorn for the benchmark: the production configuration, with the benchmark's overrides.

`metadata_gateway/gunicorn.py` as `make serve` uses it, with WEB_CONCURRENCY workers,
`--preload`, no worker recycling (GUNICORN_MAX_REQUESTS=0, so the memory measurement sees
the same processes before and after), the request log off, throttling effectively off and
the floor routed (`bench.settings`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Direct children of a process, from /proc."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    if path.exists():
        return sorted(int(p) for p in path.read_text().split())
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return sorted(found)


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc/<pid>/status (VmRSS, in KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class Gunicorn:
    env: dict[str, str]
    workers: int = 4
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    metrics_dir: str = ""
    log_path: Path = field(default_factory=lambda: PROJECT_DIR / "bench" / "gunicorn.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.port = self.port or free_port()
        self.metrics_dir = tempfile.mkdtemp(prefix="bench-metrics-")
        env = {
            **self.env,
            "WEB_CONCURRENCY": str(self.workers),
            "BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_MAX_REQUESTS": "0",
            "GUNICORN_MAX_REQUESTS_JITTER": "0",
            "GUNICORN_LOG_LEVEL": "warning",
            "GUNICORN_GRACEFUL_TIMEOUT": "10",
            "PROMETHEUS_MULTIPROC_DIR": self.metrics_dir,
        }
        env.pop("GUNICORN_ACCESS_LOG", None)
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:metadata_gateway.gunicorn",
            "--preload",
            "metadata_gateway.wsgi:application",
        ]
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}; see {self.log_path}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as answer:
                    if answer.status == 200 and len(self.worker_pids()) == self.workers:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not become healthy in 60 s; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        return children_of(self.process.pid)

    def stop(self) -> None:
        """SIGTERM (graceful), then SIGKILL the whole session if it does not go in time."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self.metrics_dir:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)
            self.metrics_dir = ""


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def busy_seconds() -> float:
    """CPU time processes spent on all cores (user, nice, system), from /proc/stat.

    Interrupts and steal are left out: they are not another process's work (loopback
    traffic is partly softirq time), so the foreign share errs low, never high.
    """
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system = fields[:3]
    return (user + nice + system) / CLOCK_TICKS


def backend_pids(database_name: str) -> list[int]:
    """PostgreSQL backends serving one database (their process title names it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                title = (entry / "cmdline").read_bytes()
                if title.startswith(b"postgres: ") and f" {database_name} ".encode() in title:
                    pids.append(int(entry.name))
    return pids


@dataclass
class CpuShare:
    """How much of the machine's CPU went to processes outside the benchmark.

    The benchmark's own processes are gunicorn's, the PostgreSQL backends of its database,
    and this process's children (wrk). On a shared machine the rest (other people's test
    runs) competes for the same cores and lowers every number; this says by how much.
    """

    own_pids: Callable[[], list[int]]
    _start: tuple[float, float, float, dict[int, float]] = (0.0, 0.0, 0.0, {})

    def start(self) -> None:
        pids = self.own_pids()
        children = os.times()
        self._start = (
            time.monotonic(),
            busy_seconds(),
            children.children_user + children.children_system,
            {pid: cpu_seconds(pid) for pid in pids},
        )

    def foreign_percent(self) -> float:
        started, busy, children, before = self._start
        elapsed = time.monotonic() - started
        now = os.times()
        own = now.children_user + now.children_system - children
        for pid in set(before) | set(self.own_pids()):
            own += max(0.0, cpu_seconds(pid) - before.get(pid, 0.0))
        foreign = max(0.0, busy_seconds() - busy - own)
        return round(100 * foreign / (elapsed * (os.cpu_count() or 1)), 1) if elapsed else 0.0
