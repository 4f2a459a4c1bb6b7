"""A busier live server for the integrity tests: gunicorn with more workers than cores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import call_command

from tests.conftest import DEMO_FIXTURE
from tests.live import LiveServer, start_gunicorn

WORKERS = 6


@pytest.fixture(scope="module")
def busy_server(django_db_setup: None) -> Iterator[LiveServer]:
    server = start_gunicorn(workers=WORKERS)
    yield server
    server.stop()


@pytest.fixture
def busy_demo(django_db_reset_sequences: None, busy_server: LiveServer) -> LiveServer:
    call_command("loaddata", str(DEMO_FIXTURE), verbosity=0)
    return busy_server
