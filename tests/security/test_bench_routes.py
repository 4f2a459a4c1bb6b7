"""The review's last row: the benchmark's floor routes are not part of the application.

The floors read and write any object with any valid token (they skip the permission on
purpose: they are what a door costs without its checks). They used to be routed by the
application's own URLconf whenever `BENCHMARK_FLOOR=1` was set; now only the benchmark's
settings (`bench.settings`, used by `make bench`) route them, and the application's URLconf
does not import the `bench` package at all.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
FLOOR = "/bench/floor/counterparts/3a9c5e1e-0000-4000-8000-000000000011/partner_metadata"

PROBE = f"""
import sys
import django
django.setup()
from django.conf import settings
from django.test import Client
from django.urls import Resolver404, resolve
import metadata_gateway.urls
try:
    resolve("{FLOOR}")
    routed = True
except Resolver404:
    routed = False
status = Client().get("{FLOOR}", HTTP_AUTHORIZATION="Bearer not-a-token").status_code
print(routed, "bench" in sys.modules, status)
"""


def probe(settings_module: str) -> list[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "BENCHMARK_FLOOR": "1",
        "DEBUG": "true",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_the_application_never_routes_the_floors() -> None:
    routed, imported, status = probe("metadata_gateway.settings")
    assert routed == "False"
    assert imported == "False"  # metadata_gateway.urls does not import bench
    assert status == "404"


def test_the_benchmark_settings_route_the_floors() -> None:
    routed, _imported, status = probe("bench.settings")
    assert routed == "True"
    assert status == "401"  # the floor verifies the token like the doors


def test_the_benchmark_starts_its_server_with_its_own_settings() -> None:
    from bench.run import server_env

    env = server_env("postgres://postgres@127.0.0.1:5432/metadata_bench")
    assert env["DJANGO_SETTINGS_MODULE"] == "bench.settings"
    assert env["DEBUG"] == "false"
    assert env["SECRET_KEY"] and env["JWT_SIGNING_KEY"]
