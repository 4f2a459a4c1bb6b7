"""Production settings and the optional read replica."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from metadata.checks import check_replica_pins
from metadata.models import Metadata
from metadata_gateway.routers import PrimaryReplicaRouter

PROJECT_DIR = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        JWT_SIGNING_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="gateway.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_the_development_secret_key() -> None:
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        env={**env, "DEBUG": "false"},
        timeout=120,
    )
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_router_without_a_replica_uses_the_primary(db: None) -> None:
    assert "replica" not in connections.settings
    assert PrimaryReplicaRouter().db_for_read(Metadata) == "default"


def test_a_replica_without_a_shared_cache_is_warned_about(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("metadata.consistency.replica_configured", lambda: True)
    settings.REDIS_URL = ""
    assert [message.id for message in check_replica_pins()] == ["metadata.W001"]
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert check_replica_pins() == []
