"""The core knows no protocol, and the application ships without the benchmark.

Each module is imported alone, in a fresh interpreter, so what it pulls in is its own doing
and not some earlier test's. The core modules are imported with Django's apps ready but
without the doors' apps (DRF, graphene), without the metadata app's `ready` wiring (signals,
which reach the token machinery the doors share) and without the admin's autodiscovery
(which imports the admin door): only what the module itself imports is counted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
PROTOCOL_LIBRARIES = ("rest_framework", "graphene", "graphene_django", "graphql")
CORE_MODULES = (
    "metadata.models",
    "metadata.linkables",
    "metadata.rules",
    "metadata.permissions",
    "metadata.services",
    "metadata.selectors",
    "metadata.principals",
    "metadata.errors",
    "metadata.middleware",
    "metadata.provisioning",
    "metadata.onboarding",
    "metadata.webhooks.events",
    "metadata.webhooks.subscriptions",
)

# Runs in the subprocess: settings without the doors' apps, and the metadata app and the admin
# without their `ready` (which import the signals and every admin module).
PROBE = """
import importlib, json, sys
from django.conf import settings
import tests.settings as full
from tests.core.bare_app import BARE, PROTOCOL_APPS
settings.configure(
    **{key: getattr(full, key) for key in dir(full) if key.isupper()},
)
settings.INSTALLED_APPS = [
    BARE.get(app, app) for app in full.INSTALLED_APPS if app not in PROTOCOL_APPS
]
import django
django.setup()
before = set(sys.modules)
importlib.import_module(sys.argv[1])
print(json.dumps({"before": sorted(before), "after": sorted(sys.modules)}))
"""


def modules_after_import(module: str) -> tuple[set[str], set[str]]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, module],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "", "DEBUG": "true", "PYTHONPATH": str(PROJECT_DIR)},
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.splitlines()[-1])
    return set(loaded["before"]), set(loaded["after"])


def protocol_modules(modules: set[str]) -> list[str]:
    return sorted(name for name in modules if name.split(".")[0] in PROTOCOL_LIBRARIES)


@pytest.mark.parametrize("module", CORE_MODULES)
def test_a_core_module_imports_no_protocol_library(module: str) -> None:
    before, after = modules_after_import(module)
    assert protocol_modules(before) == [], "the probe's own setup imported a protocol library"
    assert module in after
    assert protocol_modules(after) == []


def test_the_probe_sees_a_protocol_library_when_one_is_imported() -> None:
    _, after = modules_after_import("metadata.rest.permissions")
    assert "rest_framework" in protocol_modules(after)


def test_the_application_urlconf_imports_nothing_from_the_benchmark() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, django; django.setup();"
            "from django.urls import get_resolver; get_resolver().url_patterns;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'bench'))",
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "", "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "metadata_gateway.settings"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
