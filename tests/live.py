"""Real servers for tests: gunicorn on a loopback port over the test database.

`gunicorn_server` (session-scoped) starts gunicorn with two workers after pytest-django has
created the test database; `live_demo` loads the demo data committed (transactional), so the
server's own connections see it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.db import connection

PROJECT_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def until(condition: Callable[[], object], what: str, timeout: float = 60) -> None:
    """Wait for `condition()` to hold, polling; fail naming `what` when it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@contextlib.contextmanager
def silent_listener() -> Iterator[int]:
    """A TCP port on loopback that accepts every connection and never sends or reads a
    byte: a hung database or Redis host. Yields the port."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])  # held open, silent
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for accepted_connection in accepted:
            accepted_connection.close()
        listener.close()


# `make serve`'s gunicorn command (metadata_gateway/gunicorn.py reads the environment).
GUNICORN = [
    sys.executable,
    "-m",
    "gunicorn",
    "-c",
    "python:metadata_gateway.gunicorn",
    "metadata_gateway.wsgi",
]


def refused_start(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a server start that must refuse (exit) on its own; killed, and the test failed,
    if it serves instead."""
    process = subprocess.Popen(
        command,
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"the server started and served instead of refusing: {err[-2000:]}")
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def database_url() -> str:
    """The URL of the database the tests are using right now (the test database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = quote(db.get("USER") or "")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}{port}/{db['NAME']}"


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # quick shutdown: tests wait for nothing
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL the master and every worker at once, as a crashed host would go."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def start_gunicorn(*, workers: int = 2, extra_env: dict[str, str] | None = None) -> LiveServer:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "metadata_gateway.settings",
        "DEBUG": "true",
        "REQUEST_LOG": "false",
        **(extra_env or {}),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "metadata_gateway.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
        "--preload",  # import the project once, then fork: workers start in milliseconds
    ]
    # A session of its own, so `kill` can take the master and its workers down together.
    process = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, start_new_session=True)
    server = LiveServer(url=f"http://127.0.0.1:{port}", process=process)
    try:
        wait_until_healthy(server)
    except BaseException:
        server.kill()
        raise
    return server


def wait_until_healthy(server: LiveServer, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}")
        try:
            if requests.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not become healthy in {timeout:.0f} s")


@pytest.fixture(scope="session")
def gunicorn_server(django_db_setup: None) -> Iterator[LiveServer]:
    """One server for the session's live tests (the test database is flushed before it
    starts: see `django_db_setup` in tests/conftest.py)."""
    server = start_gunicorn()
    yield server
    server.stop()


@pytest.fixture
def live_demo(django_db_reset_sequences: None, gunicorn_server: LiveServer) -> LiveServer:
    """The live server with the demo data committed; flushed after the test.

    Sequences restart at every flush, so the content types Django recreates get the same ids
    and the servers' cached ones stay right.
    """
    from django.core.management import call_command

    from tests.conftest import DEMO_FIXTURE

    call_command("loaddata", str(DEMO_FIXTURE), verbosity=0)
    return gunicorn_server
