"""Finding 9: a start that sets nothing is a production start, and refuses unsafe keys.

`DEBUG` used to default to on, and with it the JWT key defaulted to the development key
published in this repository: anyone could sign tokens for any user. Now `DEBUG` is off
unless set (`make run` sets it for the developer), and any start with `DEBUG` off refuses
a missing or development `SECRET_KEY` or `JWT_SIGNING_KEY` with one line naming it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import GUNICORN, free_port, refused_start

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEVELOPMENT_KEY = "dev-only-insecure-key-change-me-in-production-0123456789abcdef"
SECRET = "a-production-secret-key-for-this-test-0123456789abcdef"
JWT_KEY = "a-production-jwt-key-for-this-test-0123456789abcdef"
UNSET = ("DEBUG", "SECRET_KEY", "JWT_SIGNING_KEY", "DJANGO_SETTINGS_MODULE")


def environment(**values: str) -> dict[str, str]:
    """The test process's environment without any of the variables under test."""
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    return {**env, **values}


def manage(*args: str, **values: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=environment(**values),
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_refused_naming(result: subprocess.CompletedProcess[str], variable: str) -> None:
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one line, no traceback
    assert variable in lines[0]
    assert "Traceback" not in result.stderr


def test_debug_is_off_unless_set() -> None:
    code = "from django.conf import settings; print(settings.DEBUG)"
    result = manage("shell", "-c", code, SECRET_KEY=SECRET, JWT_SIGNING_KEY=JWT_KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_a_start_that_sets_nothing_refuses_naming_secret_key() -> None:
    assert_refused_naming(manage("check"), "SECRET_KEY")


def test_the_development_secret_key_is_refused() -> None:
    result = manage("check", DEBUG="false", SECRET_KEY=DEVELOPMENT_KEY, JWT_SIGNING_KEY=JWT_KEY)
    assert_refused_naming(result, "SECRET_KEY")


def test_the_development_key_as_jwt_key_is_refused() -> None:
    result = manage("check", DEBUG="false", SECRET_KEY=SECRET, JWT_SIGNING_KEY=DEVELOPMENT_KEY)
    assert_refused_naming(result, "JWT_SIGNING_KEY")


def test_a_missing_jwt_key_is_refused() -> None:
    assert_refused_naming(manage("check", DEBUG="false", SECRET_KEY=SECRET), "JWT_SIGNING_KEY")


@pytest.mark.parametrize("command", ["issue_token", "deliver_webhooks", "migrate"])
def test_every_manage_command_refuses(command: str) -> None:
    """Commands of the project's own app too, not only Django's (they load settings later)."""
    assert_refused_naming(manage(command, "--help", DEBUG="false"), "SECRET_KEY")


def test_production_keys_start() -> None:
    result = manage("check", DEBUG="false", SECRET_KEY=SECRET, JWT_SIGNING_KEY=JWT_KEY)
    assert result.returncode == 0, result.stderr


def test_debug_on_keeps_the_development_defaults() -> None:
    """`make run` sets DEBUG=true: a developer needs no keys."""
    assert manage("check", DEBUG="true").returncode == 0


def test_gunicorn_refuses_to_start_without_keys() -> None:
    env = environment(BIND=f"127.0.0.1:{free_port()}", WEB_CONCURRENCY="1")
    result = refused_start(GUNICORN, env)
    assert_refused_naming(result, "SECRET_KEY")


def test_make_run_turns_debug_on_and_make_serve_does_not() -> None:
    run = subprocess.run(
        ["make", "-n", "-p", "run"],
        cwd=PROJECT_DIR,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert re.search(r"^run: (export )?DEBUG \??= ?true$", run.stdout, re.MULTILINE)
    makefile = (PROJECT_DIR / "Makefile").read_text()
    serve = makefile.split("\nserve:", 1)[1].split("\n\n", 1)[0]
    assert "DEBUG" not in serve
