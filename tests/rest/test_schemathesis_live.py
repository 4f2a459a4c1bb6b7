"""Schemathesis 4, every check and every phase, against a live gunicorn with the demo data.

Partners generate their clients from /v1/schema/, so the document must say exactly what the
server does (issue 23). The run reads the served document, so it covers every operation the
document lists at the time (nothing here counts them). Every operation but two is called
with a partner's token: the token route is public and called without one, the provisioning
route with the demo provisioning client's token. Any finding fails the test, and its
report names it. Every operation the document lists must have been called, and must have
answered a success at least once: a fuzzer that never gets past 404 tests the document, not
the logic. PostgreSQL only: it is the production database, and one run keeps CI within
budget.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from django.db import connection

from metadata import linkables
from metadata.webhooks.delivery import dispatch_events
from tests.conftest import (
    COUNTERPART_ONE,
    DEMO_FIXTURE,
    DEMO_PASSWORD,
    PARTNER,
    PROVISIONING_CLIENT_ID,
)
from tests.live import PROJECT_DIR, LiveServer, start_gunicorn
from tests.provisioning.conftest import PROVISIONING_CLIENT_SECRET

pytestmark = [pytest.mark.live, pytest.mark.postgres_only]

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
TOKEN_PATH = "/v1/auth/token"
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "100"))
SEED = os.environ.get("SCHEMATHESIS_SEED", "23")  # fixed: a finding reproduces
WORKERS = "1"  # two threads hit CPython 3.11.7's ast race in hypothesis's lambda reprs
# Throttles out of the way: the run sends thousands of requests from one caller.
SERVER_ENV = {
    "THROTTLE_USER_RATE": "1000000/min",
    "THROTTLE_ANONYMOUS_RATE": "1000000/min",
    # Production's answers (https-only webhook targets, as documented), on plain http.
    "DEBUG": "false",
    "SECURE_SSL_REDIRECT": "false",
    "SECRET_KEY": "schemathesis-run-only-" + "0123456789abcdef" * 3,
    "JWT_SIGNING_KEY": "schemathesis-jwt-only-" + "0123456789abcdef" * 3,
    # `make serve`'s request line limit (metadata_gateway/gunicorn.py), which the 414 states.
    "GUNICORN_CMD_ARGS": "--limit-request-line 8190",
}
# On partner_metadata routes, requests a server may refuse for its state or for limits JSON
# Schema cannot state: the hooks' check (`valid_requests_refused_only_as_documented`) admits
# each positive refusal only for its documented reason. A schema-violating write may be
# refused with 412 (If-Match is checked before the rules, as documented), 413 or 414.
POSITIVE = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx", "412", "414", "422"]
NEGATIVE = [
    *("400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429", "5xx"),
    *("412", "413", "414"),
]
CONFIG = f"""
[[operations]]
include-path-regex = "^/v1/(?!auth/token$|provisioning/)"
headers = {{ Authorization = "Bearer ${{GATEWAY_TOKEN}}" }}

# Provisioning is the system of record's door: only a provisioning client's token may call it.
[[operations]]
include-operation-id = "provisioning_objects_create"
headers = {{ Authorization = "Bearer ${{PROVISIONING_TOKEN}}" }}

[[operations]]
include-path-regex = "/partner_metadata$"
checks.positive_data_acceptance.expected-statuses = {json.dumps(POSITIVE)}
checks.negative_data_rejection.expected-statuses = {json.dumps(NEGATIVE)}

# A delivery exists only once the worker has dispatched an event to a subscription, which no
# sequence of documented calls brings about during the run: the run is given one.
[[operations]]
include-operation-id = "redeliver_webhook"
parameters."path.subscription_id" = "${{WEBHOOK_SUBSCRIPTION}}"
parameters."path.delivery_id" = "${{WEBHOOK_DELIVERY}}"
"""


@pytest.fixture
def fuzz_server(django_db_reset_sequences: None) -> Iterator[LiveServer]:
    """A server of its own (throttles raised) over the committed demo data."""
    if connection.vendor != "postgresql":
        pytest.skip("runs on PostgreSQL only (CI budget)")
    if os.environ.get("SCHEMATHESIS_RUN") == "0":
        pytest.skip("SCHEMATHESIS_RUN=0: .ci/run fuzzes once, on its first PostgreSQL pass")
    call_command("loaddata", str(DEMO_FIXTURE), verbosity=0)
    server = start_gunicorn(workers=2, extra_env=SERVER_ENV)
    yield server
    server.stop()


PARTNER_GRANT = {"grant_type": "password", "email": PARTNER, "password": DEMO_PASSWORD}
PROVISIONING_GRANT = {
    "grant_type": "client_credentials",
    "client_id": PROVISIONING_CLIENT_ID,
    "client_secret": PROVISIONING_CLIENT_SECRET,
}


def token(server: LiveServer, grant: dict[str, str]) -> str:
    response = requests.post(f"{server.url}{TOKEN_PATH}", json=grant, timeout=30)
    response.raise_for_status()
    return response.json()["access_token"]


def a_delivery(server: LiveServer, token: str) -> tuple[str, str]:
    """A subscription of the partner's to counterparts with one delivery: its id and the
    delivery's, for `redeliver_webhook`. The change goes through the REST door; the
    dispatch is the worker's step, run here."""
    auth = {"Authorization": f"Bearer {token}"}
    subscriptions = f"{server.url}/v1/webhook_subscriptions"
    counterparts = linkables.by_collection("counterparts").webhook_object_type
    target = {"url": "https://hooks.example.com/metadata", "object_type": counterparts}
    created = requests.post(subscriptions, json=target, headers=auth, timeout=30)
    assert created.status_code == 201, created.text
    subscription = created.json()["id"]
    document = f"{server.url}/v1/counterparts/{COUNTERPART_ONE}/partner_metadata"
    written = requests.patch(document, json={"metadata": {"fuzz": 1}}, headers=auth, timeout=30)
    assert written.status_code == 200, written.text
    assert dispatch_events() >= 1
    log = requests.get(f"{subscriptions}/{subscription}/deliveries", headers=auth, timeout=30)
    assert log.status_code == 200, log.text
    deliveries = log.json()["data"]
    assert len(deliveries) == 1, deliveries
    return subscription, deliveries[0]["id"]


def summary(report_dir: Path) -> tuple[int, dict[str, set[int]]]:
    """From the NDJSON report: requests sent, and the statuses each operation answered."""
    sent = 0
    statuses: dict[str, set[int]] = {}
    for report in report_dir.glob("*.ndjson"):
        for line in report.read_text().splitlines():
            event = json.loads(line).get("ScenarioFinished")
            if event is None:
                continue
            cases = event["recorder"].get("cases", {})
            for case_id, interaction in event["recorder"].get("interactions", {}).items():
                case = cases[case_id]["value"]
                label = f"{case['method']} {case['path']}"
                sent += 1
                answered = statuses.setdefault(label, set())
                if interaction.get("response"):
                    answered.add(interaction["response"]["status_code"])
    return sent, statuses


def documented(server: LiveServer) -> set[str]:
    """`METHOD /path` of every operation the served document lists."""
    document = requests.get(f"{server.url}/v1/schema/?format=json", timeout=30).json()
    return {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "put", "post", "patch", "delete")
    }


def reached(answers: set[int]) -> bool:
    """The logic was reached: the operation answered at least once with success."""
    return any(200 <= status < 300 for status in answers)


def test_the_document_says_what_the_server_does(fuzz_server: LiveServer, tmp_path: Path) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    partner = token(fuzz_server, PARTNER_GRANT)
    subscription, delivery = a_delivery(fuzz_server, partner)
    env = {
        **os.environ,
        "GATEWAY_TOKEN": partner,
        "PROVISIONING_TOKEN": token(fuzz_server, PROVISIONING_GRANT),
        "WEBHOOK_SUBSCRIPTION": subscription,
        "WEBHOOK_DELIVERY": delivery,
        "SCHEMATHESIS_HOOKS": "tests.rest.schemathesis_hooks",
        "PYTHONPATH": str(PROJECT_DIR),
    }
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(config),
        "run",
        f"{fuzz_server.url}/v1/schema/?format=json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        WORKERS,
        "--seed",
        SEED,
        "--continue-on-failure",
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "ndjson",
        "--report-dir",
        str(tmp_path),
    ]
    started = time.monotonic()
    run = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1200
    )
    elapsed = time.monotonic() - started
    output = run.stdout + run.stderr
    print(output[-3000:])
    assert run.returncode == 0, output[-20000:]
    sent, statuses = summary(tmp_path)
    operations = documented(fuzz_server)
    logic = sorted(label for label in operations if reached(statuses.get(label, set())))
    print(
        f"schemathesis: {sent} requests, logic reached (a 2xx) in {len(logic)} of "
        f"{len(operations)} documented operations, findings: 0, wall time {elapsed:.0f} s"
    )
    assert operations <= set(statuses), f"never called: {sorted(operations - set(statuses))}"
    assert set(logic) == operations, f"never a 2xx: {sorted(operations - set(logic))}"
