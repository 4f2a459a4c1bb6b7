"""A gunicorn worker killed while it holds an object's row lock (issue 20), on PostgreSQL.

To make the moment certain, the test holds an exclusive lock on the outbox table
(`metadata_webhookevent`) from a connection of its own: a write then takes its object's row
lock, reaches the event insert and waits there, in the middle of its transaction. The test
sees that wait in `pg_stat_activity`, SIGKILLs the worker, and releases the table. Nothing of
the killed write may remain (no rows, no audit entry, no event), and the next writer of the
same object must get through once PostgreSQL has dropped the dead session.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
import requests
from django.core.management import call_command
from django.db import connection

from metadata.models import Metadata, MetadataChange, User, WebhookEvent
from metadata.tokens import access_token_for
from tests.conftest import COUNTERPART_ONE, DEMO_FIXTURE, PARTNER
from tests.live import LiveServer, database_url, start_gunicorn, until

PATH = f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata"
WAIT_SECONDS = 30

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and sessions are PostgreSQL's"
)


@pytest.fixture
def server(django_db_reset_sequences: None) -> Iterator[LiveServer]:
    call_command("loaddata", str(DEMO_FIXTURE), verbosity=0)
    live = start_gunicorn(workers=2)
    yield live
    live.stop()


def workers_of(server: LiveServer) -> set[int]:
    master = server.process.pid
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}


def waiting_backends(conn: psycopg.Connection) -> list[int]:
    """Backends of other sessions that wait for a lock on the outbox table."""
    rows = conn.execute(
        """
        SELECT activity.pid FROM pg_stat_activity AS activity
        JOIN pg_locks AS lock ON lock.pid = activity.pid AND NOT lock.granted
        WHERE lock.relation = 'metadata_webhookevent'::regclass
        """
    ).fetchall()
    return [pid for (pid,) in rows]


def test_a_worker_killed_holding_the_row_lock_leaves_nothing_and_blocks_no_one(
    server: LiveServer,
) -> None:
    headers = {"Authorization": f"Bearer {access_token_for(User.objects.get(email=PARTNER))}"}
    first = requests.put(
        server.url + PATH, json={"metadata": {"kept": 1}}, headers=headers, timeout=30
    )
    assert first.status_code == 200, first.text
    before = (MetadataChange.objects.count(), WebhookEvent.objects.count())
    workers = workers_of(server)

    blocker = psycopg.connect(database_url(), autocommit=False)
    watcher = psycopg.connect(database_url(), autocommit=True)
    try:
        blocker.execute("LOCK TABLE metadata_webhookevent IN EXCLUSIVE MODE")
        with ThreadPoolExecutor(max_workers=1) as pool:
            doomed = pool.submit(
                requests.put,
                server.url + PATH,
                json={"metadata": {"doomed": True}},
                headers=headers,
                timeout=WAIT_SECONDS,
            )
            until(lambda: waiting_backends(watcher), "the write to wait on the outbox lock")
            for pid in workers:  # the one holding the row lock is among them; kill both
                os.kill(pid, signal.SIGKILL)
            with pytest.raises(requests.ConnectionError):
                doomed.result()
        blocker.rollback()
        until(lambda: not waiting_backends(watcher), "PostgreSQL to drop the dead session")
    finally:
        blocker.close()
        watcher.close()

    # The master has started new workers; the next writer of the same object gets through.
    until(lambda: workers_of(server) - workers, "gunicorn to replace its workers")
    after = requests.put(
        server.url + PATH, json={"metadata": {"next": 2}}, headers=headers, timeout=WAIT_SECONDS
    )
    assert after.status_code == 200, after.text

    rows = dict(Metadata.objects.filter(object_id=COUNTERPART_ONE).values_list("key", "value"))
    assert rows == {"next": 2}
    assert not MetadataChange.objects.filter(key="doomed").exists()
    # The next write removed "kept" and added "next": two audit entries, one event.
    assert (MetadataChange.objects.count(), WebhookEvent.objects.count()) == (
        before[0] + 2,
        before[1] + 1,
    )
