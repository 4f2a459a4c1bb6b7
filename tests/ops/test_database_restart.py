"""PostgreSQL stopped and started again under load (issue 20), on a cluster of the test's own.

The shared PostgreSQL on 5432 serves other test runs, so it is never touched: the fixture
makes a throwaway cluster (`initdb` in a temporary directory, trust auth, a free loopback
port, its socket inside that directory), migrates it and loads the demo data, and starts
gunicorn over it. Readers and writers then run through both doors while the cluster is
stopped (`pg_ctl stop -m fast`, which ends every session) and started again a few seconds
later. What must hold:

- while the database is down every answer is a clean 503 with `Retry-After`: REST's
  `{"error": {"type", "message"}}`, GraphQL's Kraken error `KT-CT-0503`, `/readyz` 503;
  never a 500, never a hang past the client's timeout;
- a few seconds after the database is back, every answer is a 2xx again, from the same
  gunicorn workers (no restart: their connections are health-checked and reopened);
- every write that got a 2xx is in the database afterwards, and none that got an error is.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import requests
from django.db import connection

from tests.conftest import COUNTERPART_ONE, DEMO_FIXTURE, PARTNER
from tests.live import PROJECT_DIR, LiveServer, free_port, start_gunicorn

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a PostgreSQL restart needs PostgreSQL"
)

REST_PATH = f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata"
ACCOUNT = "A-154321"
UPDATE = """
mutation updateMetadata($input: MetadataInput!) {
  updateMetadata(input: $input) { metadata { key value } }
}
"""
READ = """
query read($identifier: String!) {
  metadata(linkedObjectType: ACCOUNT, identifier: $identifier) { key value }
}
"""
CLIENT_TIMEOUT = 15  # seconds; gunicorn's own worker timeout is 60
RECOVERY_SECONDS = 5  # the contract: serving again within this long of the database's return
CLIENTS = 7
PAUSE = 0.02  # between one client's requests, so a shared 2-core machine keeps up


@dataclass
class Cluster:
    """A PostgreSQL cluster in a temporary directory, run as the `postgres` user."""

    root: Path
    binaries: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/gateway"

    def pg_ctl(self, *args: str) -> None:
        command = [str(self.binaries / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args]
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *command],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg_ctl("-l", str(self.root / "server.log"), "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("-m", mode, "stop")


def postgres_binaries() -> Path:
    """Debian's newest server binaries; a skip (a failure in CI) when there are none."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if os.geteuid() != 0 or not candidates or not shutil.which("runuser"):
        reason = "a throwaway PostgreSQL cluster needs root, runuser and initdb"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return candidates[-1].parent


def manage(database: str, *args: str) -> str:
    env = {**os.environ, "DATABASE_URL": database, "REQUEST_LOG": "false"}
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    binaries = postgres_binaries()
    root = Path(tempfile.mkdtemp(prefix="gateway-restart-"))
    shutil.chown(root, "postgres", "postgres")
    root.chmod(0o700)
    server = Cluster(root=root, binaries=binaries, port=free_port())
    try:
        initdb = [str(binaries / "initdb"), "-D", str(server.data), "-A", "trust", "-U", "postgres"]
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *initdb, "--no-sync"],
            check=True,
            capture_output=True,
            timeout=300,
        )
        server.start()
        admin_url = f"postgres://postgres@127.0.0.1:{server.port}/postgres"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE gateway")
        manage(server.url, "migrate", "--noinput")
        manage(server.url, "loaddata", str(DEMO_FIXTURE))
        yield server
    finally:
        if (server.data / "postmaster.pid").exists():
            server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def gateway(cluster: Cluster) -> Iterator[LiveServer]:
    server = start_gunicorn(
        workers=2,
        extra_env={
            "DATABASE_URL": cluster.url,
            "CONN_MAX_AGE": "60",  # connections outlive the restart: the health check must act
            "THROTTLE_USER_RATE": "100000/min",
            "THROTTLE_ANONYMOUS_RATE": "100000/min",
        },
    )
    yield server
    server.stop()


@dataclass
class Answer:
    client: str
    sent: float
    answered: float
    status: int | str  # an HTTP status, or "timeout" / "connection error"
    problem: str = ""  # what is wrong with the answer's shape, if anything
    key: str = ""  # the key a writer tried to write


@dataclass
class Load:
    """Clients that run until told to stop, recording every answer."""

    url: str
    token: str
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    max_requests: int = 2000

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def run(self, client: str, request: Callable[[int], tuple[requests.Response, str]]) -> None:
        for i in range(self.max_requests):
            if self.stop.is_set():
                return
            sent = time.monotonic()
            key = ""
            try:
                response, key = request(i)
                status: int | str = response.status_code
                problem = shape_problem(client, response)
            except requests.Timeout:
                status, problem = "timeout", ""
            except requests.ConnectionError:
                status, problem = "connection error", ""
            answer = Answer(client, sent, time.monotonic(), status, problem, key)
            with self.lock:
                self.answers.append(answer)
            time.sleep(PAUSE)

    def wait_for_each(self, counts: Callable[[Answer], bool], what: str, least: int = 3) -> None:
        """Until every client has `least` answers that `counts` (bounded: a minute)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with self.lock:
                seen = Counter(a.client for a in self.answers if counts(a))
            if len(seen) == CLIENTS and min(seen.values()) >= least:
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}: {seen}")

    # Each writer writes its own key again and again, a new value each time: the document
    # stays small however many writes a fast machine makes, and every committed write leaves
    # one audit entry (key, value), by which the test tells which writes were stored.
    def rest_writer(self, name: str) -> Callable[[int], tuple[requests.Response, str]]:
        def write(i: int) -> tuple[requests.Response, str]:
            response = requests.patch(
                self.url + REST_PATH,
                json={"metadata": {name: i}},
                headers=self.headers,
                timeout=CLIENT_TIMEOUT,
            )
            return response, f"{name}={i}"

        return write

    def graphql_writer(self, name: str) -> Callable[[int], tuple[requests.Response, str]]:
        def write(i: int) -> tuple[requests.Response, str]:
            variables = {
                "input": {
                    "linkedObjectType": "ACCOUNT",
                    "identifier": ACCOUNT,
                    "key": name,
                    "value": json.dumps(i),
                }
            }
            response = requests.post(
                f"{self.url}/v1/graphql/",
                json={"query": UPDATE, "variables": variables},
                headers=self.headers,
                timeout=CLIENT_TIMEOUT,
            )
            return response, f"{name}={i}"

        return write

    def rest_reader(self, i: int) -> tuple[requests.Response, str]:
        return requests.get(self.url + REST_PATH, headers=self.headers, timeout=CLIENT_TIMEOUT), ""

    def graphql_reader(self, i: int) -> tuple[requests.Response, str]:
        response = requests.post(
            f"{self.url}/v1/graphql/",
            json={"query": READ, "variables": {"identifier": ACCOUNT}},
            headers=self.headers,
            timeout=CLIENT_TIMEOUT,
        )
        return response, ""

    def readiness(self, i: int) -> tuple[requests.Response, str]:
        return requests.get(f"{self.url}/readyz", timeout=CLIENT_TIMEOUT), ""


def shape_problem(client: str, response: requests.Response) -> str:
    """What is wrong with an answer, given its status; empty when it is as the contract says."""
    status = response.status_code
    if status not in (200, 503):
        return f"unexpected status {status}: {response.text[:200]}"
    try:
        body = response.json()
    except ValueError:
        return f"not JSON: {response.text[:200]}"
    if status == 503 and not response.headers.get("Retry-After", "").isdigit():
        return "503 without a Retry-After in seconds"
    if client.startswith("graphql"):
        errors = body.get("errors")
        if status == 200:
            return f"errors with 200: {errors}" if errors else ""
        codes = {error.get("extensions", {}).get("errorCode") for error in errors or []}
        return "" if codes == {"KT-CT-0503"} else f"GraphQL 503 with codes {codes}: {body}"
    if client == "readyz":
        expected = "ready" if status == 200 else "unavailable"
        return "" if body.get("status") == expected else f"readiness body {body}"
    if status == 503:
        error = body.get("error", {})
        if error.get("type") != "service_unavailable" or not error.get("message"):
            return f"REST 503 body {body}"
    return ""


def workers_of(server: LiveServer) -> set[int]:
    """The pids of gunicorn's worker processes (the master's children, from /proc)."""
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {int(child) for child in children}


def stored_keys(cluster: Cluster) -> set[str]:
    """Every committed write of the writers, as `key=value`: their audit entries."""
    with psycopg.connect(cluster.url) as conn:
        rows = conn.execute(
            "SELECT key, new_value FROM metadata_metadatachange WHERE key LIKE 'w%'"
        ).fetchall()
    return {f"{key}={value}" for key, value in rows}


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_database_restart_under_load_costs_clean_503s_and_loses_no_acknowledged_write(
    cluster: Cluster, gateway: LiveServer, mode: str
) -> None:
    """`fast` ends every session and checkpoints; `immediate` is a crash (recovery on start)."""
    with psycopg.connect(cluster.url, autocommit=True) as conn:
        conn.execute("DELETE FROM metadata_metadata WHERE key LIKE 'w%'")
        conn.execute("DELETE FROM metadata_metadatachange WHERE key LIKE 'w%'")
    token = manage(cluster.url, "issue_token", PARTNER)
    load = Load(url=gateway.url, token=token)
    clients = {
        "rest-writer-a": load.rest_writer("wra"),
        "rest-writer-b": load.rest_writer("wrb"),
        "graphql-writer-a": load.graphql_writer("wga"),
        "graphql-writer-b": load.graphql_writer("wgb"),
        "rest-reader": load.rest_reader,
        "graphql-reader": load.graphql_reader,
        "readyz": load.readiness,
    }
    assert len(clients) == CLIENTS
    threads = [
        threading.Thread(target=load.run, args=(name, request), daemon=True)
        for name, request in clients.items()
    ]
    for thread in threads:
        thread.start()
    workers = workers_of(gateway)
    assert len(workers) == 2
    try:
        load.wait_for_each(lambda a: a.status == 200, "answers before the stop")
        stopping = time.monotonic()
        cluster.stop(mode)
        down = time.monotonic()
        load.wait_for_each(lambda a: a.sent >= down, "answers while the database is down")
        starting = time.monotonic()
        cluster.start()
        up = time.monotonic()
        time.sleep(RECOVERY_SECONDS)
        load.wait_for_each(lambda a: a.sent >= up + RECOVERY_SECONDS, "answers after the start")
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(timeout=CLIENT_TIMEOUT + 5)
    answers = list(load.answers)

    def statuses(selected: list[Answer]) -> dict[str, int]:
        return dict(Counter(f"{a.client} {a.status}" for a in selected))

    before = [a for a in answers if a.answered < stopping]
    during = [a for a in answers if a.sent >= down and a.answered <= starting]
    after = [a for a in answers if a.sent >= up + RECOVERY_SECONDS]
    print("\nbefore the stop:", statuses(before))
    print("while stopped:", statuses(during))
    print(f"from {RECOVERY_SECONDS} s after the start:", statuses(after))
    print(f"all {len(answers)} answers ({mode}):", dict(Counter(a.status for a in answers)))

    # Every answer, whenever it came, is a 2xx or a clean 503: no 500, no hang, no reset.
    wrong = [a for a in answers if a.problem or a.status not in (200, 503)]
    assert not wrong, wrong[:5]
    assert before and all(a.status == 200 for a in before), statuses(before)
    # While the database is down every door answers 503, readiness included.
    assert {a.client for a in during} == set(clients), statuses(during)
    assert all(a.status == 503 for a in during), statuses(during)
    # Soon after it is back, the same workers serve everything again.
    assert {a.client for a in after} == set(clients), statuses(after)
    assert all(a.status == 200 for a in after), statuses(after)
    assert workers_of(gateway) == workers  # the same processes: none restarted

    # Exactly the acknowledged writes are stored.
    written = {a.key for a in answers if a.key and a.status == 200}
    refused = {a.key for a in answers if a.key and a.status != 200}
    stored = stored_keys(cluster)
    print(f"writes: {len(written)} acknowledged, {len(refused)} refused; {len(stored)} stored")
    assert written and refused
    assert written <= stored, sorted(written - stored)[:10]
    assert not refused & stored, sorted(refused & stored)[:10]
    assert stored == written
