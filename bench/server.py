"""gunicorn for the benchmark: the production configuration, with the benchmark's overrides.

`metadata_gateway/gunicorn.py` as `make serve` uses it, with WEB_CONCURRENCY workers,
`--preload`, no worker recycling (GUNICORN_MAX_REQUESTS=0, so the memory measurement sees
the same processes before and after), the request log off, throttling effectively off and
the floor routed (BENCHMARK_FLOOR=1).
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
