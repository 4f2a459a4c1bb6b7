"""A real streaming replica (issue 20): reads go to it, except where they must not.

The fixture makes a second PostgreSQL cluster on this machine with `pg_basebackup` from the
primary, streaming from it, and starts it on its own port; gunicorn then runs with
`DATABASE_REPLICA_URL` pointing at it. To make lag certain, tests pause the replica's replay
(`pg_wal_replay_pause()`): what the primary commits then is not on the replica until replay
resumes. Everything is undone after the tests (the replica's files, the `replication` line
the primary's pg_hba.conf needs: stack note 11).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
import requests
from django.core.management import call_command
from django.db import connection

from metadata import services
from metadata.linkables import by_name
from metadata.models import Door, User
from metadata.principals import Principal
from metadata.selectors import find_target
from metadata.tokens import access_token_for
from tests.conftest import COUNTERPART_ONE, DEMO_FIXTURE, PARTNER, SUPPORT_LEAD
from tests.live import LiveServer, database_url, free_port, start_gunicorn, until

PATH = f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata"
LOOKUP = "/v1/counterparts/partner_metadata"
REDIS_URL = "redis://127.0.0.1:6379/14"
HBA_LINE = "host replication all 127.0.0.1/32 trust  # metadata-gateway replica tests"

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="streaming replication is PostgreSQL's"
)


def run_as_postgres(*command: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, timeout=300)


def cluster() -> tuple[Path, Path]:
    """The primary's pg_hba.conf and its server binaries (Debian's layout)."""
    versions = sorted(Path("/etc/postgresql").iterdir()) if Path("/etc/postgresql").is_dir() else []
    if os.geteuid() != 0 or not versions or not shutil.which("runuser"):
        reason = "a replica needs root and Debian's PostgreSQL cluster layout"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    version = versions[-1].name
    return versions[-1] / "main" / "pg_hba.conf", Path(f"/usr/lib/postgresql/{version}/bin")


def base_backup(binaries: Path, data: Path, attempts: int = 3) -> None:
    """The primary's cluster copied into `data`, set up to stream from it (`-R`).

    Tried again when the primary ends the copy's WAL stream, which a busy shared machine
    (checkpoints of other tests' databases) can do."""
    command = [str(binaries / "pg_basebackup"), "-h", "127.0.0.1", "-U", "postgres"]
    for attempt in range(attempts):
        try:
            run_as_postgres(*command, "-D", str(data), "-R", "-X", "stream")
            return
        except subprocess.CalledProcessError:
            if attempt == attempts - 1:
                raise
            time.sleep(2)


def reload_primary() -> None:
    with psycopg.connect(database_url(), autocommit=True) as conn:
        conn.execute("SELECT pg_reload_conf()")


class Replica:
    """The replica cluster: where it listens, and how to pause, resume and stop it."""

    def __init__(self, data: Path, binaries: Path, port: int) -> None:
        self.data, self.binaries, self.port = data, binaries, port
        primary = connection.settings_dict
        self.url = f"postgres://postgres@127.0.0.1:{port}/{primary['NAME']}"

    def pg_ctl(self, *args: str) -> None:
        run_as_postgres(str(self.binaries / "pg_ctl"), "-D", str(self.data), "-w", *args)

    def start(self) -> None:
        self.pg_ctl("-l", str(self.data / "server.log"), "start")

    def stop(self) -> None:
        self.pg_ctl("-m", "immediate", "stop")

    def execute(self, sql: str) -> Any:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(sql).fetchone()

    def pause(self) -> None:
        self.catch_up()
        self.execute("SELECT pg_wal_replay_pause()")

    def resume(self) -> None:
        self.execute("SELECT pg_wal_replay_resume()")
        self.catch_up()

    def catch_up(self) -> None:
        """Wait until the replica has replayed everything the primary has committed."""
        with psycopg.connect(database_url(), autocommit=True) as conn:
            (target,) = conn.execute("SELECT pg_current_wal_lsn()").fetchone()
        until(
            lambda: self.execute(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")[0],
            "the replica to catch up",
        )


@pytest.fixture(scope="module")
def replica(django_db_setup: None) -> Iterator[Replica]:
    hba, binaries = cluster()
    original = hba.read_text()
    hba.write_text(original.rstrip("\n") + "\n" + HBA_LINE + "\n")
    data = Path(tempfile.mkdtemp(prefix="gateway-replica-"))
    shutil.chown(data, "postgres", "postgres")
    data.chmod(0o700)
    port = 5433 if port_free(5433) else free_port()
    server = Replica(data, binaries, port)
    try:
        reload_primary()
        base_backup(binaries, data)
        # Debian keeps the primary's configuration outside its data directory: give the
        # replica its own, listening on loopback only.
        (data / "postgresql.conf").write_text(
            f"port = {port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{data}'\nhot_standby = on\n"
        )
        (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        for path in data.iterdir():
            shutil.chown(path, "postgres", "postgres")
        server.start()
        server.catch_up()
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
        hba.write_text(original)
        reload_primary()
        shutil.rmtree(data, ignore_errors=True)


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def demo(django_db_reset_sequences: None, replica: Replica) -> Replica:
    """The demo data, committed on the primary and replayed on the replica."""
    call_command("loaddata", str(DEMO_FIXTURE), verbosity=0)
    redis.Redis.from_url(REDIS_URL).flushdb()
    replica.catch_up()
    return replica


@pytest.fixture
def gateway(demo: Replica) -> Iterator[LiveServer]:
    """gunicorn over the primary and the replica, started once the demo data is in place:
    its workers cache content type ids, which a flush between tests renumbers."""
    env = {
        "DATABASE_REPLICA_URL": demo.url,
        "REDIS_URL": REDIS_URL,
        "REPLICA_PIN_SECONDS": "60",
        "REPLICA_RETRY_SECONDS": "60",
    }
    server = start_gunicorn(workers=2, extra_env=env)
    yield server
    server.stop()
    redis.Redis.from_url(REDIS_URL).flushdb()


def headers(email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token_for(User.objects.get(email=email))}"}


def document(server: LiveServer, email: str) -> dict[str, Any]:
    response = requests.get(server.url + PATH, headers=headers(email), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["metadata"]


def write_on_the_primary(key: str, value: Any) -> None:
    """A write by someone else (not through a door the test's callers use)."""
    partner = User.objects.get(email=PARTNER)
    target = find_target(
        linkable=by_name("COUNTERPART"),
        identifier=COUNTERPART_ONE,
        principal=Principal.for_user(partner),
    )
    assert target is not None
    services.set_key(
        target=target,
        key=key,
        value=value,
        context=services.WriteContext(actor_id=None, door=Door.ADMIN),
    )


def test_reads_go_to_the_replica(gateway: LiveServer, demo: Replica) -> None:
    demo.pause()
    try:
        write_on_the_primary("seen", "later")
        assert document(gateway, PARTNER) == {}  # the replica has not replayed it yet
    finally:
        demo.resume()
    assert document(gateway, PARTNER) == {"seen": "later"}


def test_a_caller_reads_its_own_writes_and_others_read_the_replica(
    gateway: LiveServer, demo: Replica
) -> None:
    demo.pause()
    try:
        put = requests.put(
            gateway.url + PATH,
            json={"metadata": {"mine": 1}},
            headers=headers(PARTNER),
            timeout=30,
        )
        assert put.status_code == 200, put.text
        for _ in range(4):  # on every worker: the pin is in the shared cache
            assert document(gateway, PARTNER) == {"mine": 1}
        assert document(gateway, SUPPORT_LEAD) == {}
    finally:
        demo.resume()
    assert document(gateway, SUPPORT_LEAD) == {"mine": 1}


def test_lookups_read_the_primary(gateway: LiveServer, demo: Replica) -> None:
    demo.pause()
    try:
        write_on_the_primary("external_id", "id_lookup")
        assert document(gateway, SUPPORT_LEAD) == {}  # a plain read: the replica
        found = requests.get(
            gateway.url + LOOKUP,
            params={"key": "external_id", "value": '"id_lookup"'},
            headers=headers(SUPPORT_LEAD),
            timeout=30,
        )
        assert found.status_code == 200, found.text
        assert [item["id"] for item in found.json()["data"]] == [COUNTERPART_ONE]
    finally:
        demo.resume()


def test_a_replica_that_is_down_falls_back_to_the_primary_at_once(
    gateway: LiveServer, demo: Replica
) -> None:
    write_on_the_primary("fresh", True)
    demo.stop()
    try:
        # The first request after the replica went away is already answered from the primary.
        assert document(gateway, SUPPORT_LEAD) == {"fresh": True}
        assert document(gateway, PARTNER) == {"fresh": True}
        write_on_the_primary("fresher", True)
        assert document(gateway, SUPPORT_LEAD) == {"fresh": True, "fresher": True}
    finally:
        demo.start()
        demo.catch_up()
