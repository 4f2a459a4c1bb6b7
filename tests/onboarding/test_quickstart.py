"""The README's production quickstart, run as written (issue 24).

The blocks of the README's "Production quickstart" section are taken from the README itself:
the configuration block, with the few values that must differ here (the database, a free
port, the test's own identity provider) exported after it; `make serve` in the background,
as terminal 1; then terminal 2's commands with `bash -euo pipefail`. The database is an empty
PostgreSQL database made for the run and dropped after it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.db import connection

from tests.jwks import JWKSServer, SigningKey, claims
from tests.live import free_port

pytestmark = pytest.mark.live

PROJECT_DIR = Path(__file__).resolve().parents[2]
SECTION = "## Production quickstart"
FENCE = re.compile(r"^```sh\n(.*?)^```$", re.S | re.M)
EXPORT = re.compile(r"^export ([A-Z_]+)=", re.M)
IMPORTED_USER = "alice@platform.example"
QUICKSTART_REDIS_URL = "redis://127.0.0.1:6379/13"
# What the test replaces in the configuration block, and why.
OVERRIDDEN = {
    "DATABASE_URL": "an empty database made for this run",
    "GATEWAY": "a free port",
    "OIDC_JWKS_URL": "the test's own identity provider on loopback",
    "REDIS_URL": "a Redis database of this test's own (others share the server)",
}


def readme_blocks() -> list[str]:
    text = (PROJECT_DIR / "README.md").read_text()
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return FENCE.findall(text[start : end if end != -1 else None])


def test_the_readme_has_the_quickstart_blocks() -> None:
    """Configuration, terminal 1 (make serve), terminal 2: the shape the run below needs."""
    config, serve, *commands = readme_blocks()
    assert set(OVERRIDDEN) <= set(EXPORT.findall(config))
    assert {"DEBUG", "SECRET_KEY", "JWT_SIGNING_KEY", "OIDC_ISSUER", "OIDC_AUDIENCE"} <= set(
        EXPORT.findall(config)
    )
    assert "DEBUG=false" in config
    assert serve.strip() == "make serve"
    script = "\n".join(commands)
    for needed in (
        "createsuperuser --noinput",
        "create_partner_client",
        "--provisioning",
        "/v1/provisioning/objects",
        "partner_metadata",
        "IDP_TOKEN",
    ):
        assert needed in script


@pytest.fixture
def empty_database() -> Iterator[str]:
    """An empty PostgreSQL database of its own; its URL. Dropped afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("the production quickstart runs on PostgreSQL")
    import psycopg
    from psycopg import sql

    settings = connection.settings_dict
    server = {"host": settings.get("HOST") or "127.0.0.1", "user": settings.get("USER") or ""}
    if settings.get("PORT"):
        server["port"] = str(settings["PORT"])
    if settings.get("PASSWORD"):
        server["password"] = settings["PASSWORD"]
    name = f"quickstart_{os.getpid()}"
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as conn:
        conn.execute(drop)
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    port = f":{server['port']}" if "port" in server else ""
    auth = server["user"] + (f":{server['password']}" if "password" in server else "")
    yield f"postgres://{auth}@{server['host']}{port}/{name}"
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as conn:
        conn.execute(drop)


@pytest.fixture
def identity_provider() -> Iterator[tuple[JWKSServer, SigningKey]]:
    server, key = JWKSServer(), SigningKey.rsa("quickstart-key")
    server.publish(key)
    yield server, key
    server.close()


def exports(values: dict[str, str]) -> str:
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in values.items())


@contextlib.contextmanager
def background(script: str, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """Run `script` in a session of its own (terminal 1); stop the whole session afterwards."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=PROJECT_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_until_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 300  # an empty database is migrated first
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"make serve exited:\n{log.read_text()[-4000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise AssertionError(f"the server never became ready:\n{log.read_text()[-4000:]}")


def test_the_production_quickstart_runs_as_written(
    empty_database: str,
    identity_provider: tuple[JWKSServer, SigningKey],
    tmp_path: Path,
) -> None:
    jwks, key = identity_provider
    config, serve, *commands = readme_blocks()
    port = free_port()
    gateway = f"http://127.0.0.1:{port}"
    values = re.search(r"^export OIDC_ISSUER=(\S+)", config, re.M)
    audience = re.search(r"^export OIDC_AUDIENCE=(\S+)", config, re.M)
    assert values and audience
    idp_token = key.token(
        {**claims(IMPORTED_USER), "iss": values.group(1), "aud": audience.group(1)}
    )
    overrides = exports(
        {
            "DATABASE_URL": empty_database,
            "GATEWAY": gateway,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "OIDC_JWKS_URL": jwks.url,
            "REDIS_URL": QUICKSTART_REDIS_URL,
            "WEB_CONCURRENCY": "2",
            "GUNICORN_GRACEFUL_TIMEOUT": "5",
            "REQUEST_LOG": "false",
            "IDP_TOKEN": idp_token,
        }
    )
    prelude = f"{config}\n{overrides}\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TEST_DB"))}
    env.pop("DATABASE_URL", None)
    # `make serve` installs into the venv running these tests, with its own Python, rather
    # than the newest Python it would pick (which would rebuild the venv under the suite).
    env |= {"PYTHON": sys.executable, "VENV": sys.prefix}
    log = tmp_path / "serve.log"
    with background(prelude + serve, env, log) as server:
        wait_until_ready(gateway, server, log)
        result = subprocess.run(
            [
                "bash",
                "-euo",
                "pipefail",
                "-c",
                prelude
                + "\n".join(commands).replace(
                    ".venv/bin/python",
                    sys.executable,  # the venv running the suite (CI's is
                ),
            ],  # .venv-3.11 or .venv-3.13)
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        output = result.stdout
        # The server still runs in production settings: probes over plain HTTP, no debug.
        assert requests.get(f"{gateway}/healthz", timeout=5).status_code == 200
        missing = requests.get(f"{gateway}/no-such-page", timeout=5)
        assert missing.status_code == 404 and "Traceback" not in missing.text

    lines = [line.replace(" ", "") for line in output.splitlines() if line.strip()]
    document = '{"metadata":{"external_id":"acme-42"}}'
    assert lines == [
        "Superusercreatedsuccessfully.",
        '{"created":3,"updated":0,"retired":0,"unchanged":0,"failed":[]}',  # the import
        document,  # the partner's PUT
        document,  # the partner's GET
        document,  # Alice's GET, with her identity provider's token
    ], output
    assert "CLIENT_SECRET" not in output  # eval'd, never echoed
    _check_superuser(empty_database)


def _check_superuser(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(url.replace(parts.scheme, "postgresql", 1)) as conn:
        row = conn.execute(
            "SELECT is_superuser, is_staff, password LIKE 'pbkdf2_sha256$%%' "
            "FROM metadata_user WHERE email = 'ops@example.com'"
        ).fetchone()
        assert row == (True, True, True)
        imported = conn.execute(
            "SELECT password LIKE '!%%' FROM metadata_user WHERE email = %s", (IMPORTED_USER,)
        ).fetchone()
        assert imported == (True,)  # provisioned users have no usable password
