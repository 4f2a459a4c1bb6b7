"""Issue 19: the GraphQL clients people use load the schema and talk to a live gateway.

Each client runs in its own environment (`environments`): gql 3.5 with graphql-core 3.2.6,
gql 4.0 with graphql-core 3.2.10 (the newest release that does not know the
`DIRECTIVE_DEFINITION` location), gql 4.4 with graphql-core 3.3, and graphql-js 16 under node.
Each one loads the schema by introspection (graphql-js: `buildClientSchema`), validates its
documents locally, obtains a token with `obtainKrakenToken`, runs `updateMetadata`, reads
`account { metadata }`, and receives a refusal carrying Kraken's error extensions.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from metadata.models import Metadata
from tests.clients import environments
from tests.conftest import DEMO_PASSWORD, SOME_TEST
from tests.live import LiveServer

pytestmark = pytest.mark.live

ACCOUNT = "A-154321"  # some.test@email.com's account
OTHER_ACCOUNT = "A-12345"  # not theirs: refused as missing (KT-CT-4123)
# The locations of @deprecated in the GraphQL specification (October 2021), which every
# client knows; graphql-core 3.2.14 adds DIRECTIVE_DEFINITION, which graphql-core 3.2.0 to
# 3.2.10 does not know, and refuses to build a schema with.
SPEC_DEPRECATED_LOCATIONS = {
    "FIELD_DEFINITION",
    "ARGUMENT_DEFINITION",
    "INPUT_FIELD_DEFINITION",
    "ENUM_VALUE",
}
GQL_CLIENTS = {
    "gql-3.5": ("gql[requests]==3.5.3", "graphql-core==3.2.6"),
    "gql-4.0": ("gql[requests]==4.0.0", "graphql-core==3.2.10"),
    "gql-4.4": ("gql[requests]==4.4.0", "graphql-core==3.3.2"),
}


def arguments(server: LiveServer) -> list[str]:
    return [f"{server.url}/v1/graphql/", SOME_TEST, DEMO_PASSWORD, ACCOUNT, OTHER_ACCOUNT]


def report_of(command: list[str], cwd: Path | None = None) -> dict[str, Any]:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def check(report: dict[str, Any], key: str) -> None:
    """What every client must have seen."""
    assert report["schema_loaded"] is True
    assert set(report["deprecated_locations"]) == SPEC_DEPRECATED_LOCATIONS
    local = report["local_validation"].replace('"', "'")  # graphql-js quotes with "
    assert "Cannot query field 'noSuchField' on type 'Account'." in local, local

    metadata = report["update"]["updateMetadata"]["metadata"]
    assert metadata["key"] == key
    stored = {"pet_type": "dog", "name": "fang", "tags": ["a", 1, None]}
    assert json.loads(metadata["value"]) == stored
    account = report["account"]["account"]
    assert account is not None, report
    assert account["number"] == ACCOUNT
    read = {m["key"]: json.loads(m["value"]) for m in account["metadata"]}
    assert read.get(key) == stored, report

    refused = report["error"]
    assert refused["data"] == {"updateMetadata": None}
    (error,) = refused["errors"]
    assert error["path"] == ["updateMetadata"]
    assert error["extensions"]["errorType"] == "AUTHORIZATION"
    assert error["extensions"]["errorCode"] == "KT-CT-4123"
    assert error["extensions"]["errorDescription"]

    row = Metadata.objects.get(key=key)
    assert row.value == stored
    assert not Metadata.objects.filter(key=key).exclude(pk=row.pk).exists()


@pytest.fixture(scope="session", params=list(GQL_CLIENTS))
def gql_python(request: pytest.FixtureRequest) -> tuple[str, Path]:
    return request.param, environments.python_with(*GQL_CLIENTS[request.param])


def test_gql_loads_the_schema_and_talks_to_the_gateway(
    gql_python: tuple[str, Path], live_demo: LiveServer
) -> None:
    name, python = gql_python
    script = environments.CLIENTS_DIR / "gql_client.py"
    report = report_of([str(python), str(script), *arguments(live_demo)])
    expected_gql = GQL_CLIENTS[name][0].split("==")[1]
    assert report["gql"] == expected_gql, report
    check(report, "gql-client")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_graphql_js_builds_the_client_schema_and_talks_to_the_gateway(
    live_demo: LiveServer,
) -> None:
    directory = environments.graphql_js()
    shutil.copy2(environments.JS_DIR / "client.mjs", directory / "client.mjs")
    report = report_of(["node", "client.mjs", *arguments(live_demo)], cwd=directory)
    assert report["graphql_js"].startswith("16."), report
    check(report, "graphql-js-client")
