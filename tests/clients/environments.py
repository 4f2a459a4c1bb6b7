"""Client environments for the compatibility tests, built on first use and cached.

Each client runs in an environment of its own, never in the server's venv: gql 3.5 pins
graphql-core < 3.2.7 while the server runs 3.2.14, and graphql-js needs node. They are cached
inside the running venv (`<venv>/test-clients/<key>`, so `make clean` removes them), keyed by
what they hold: only the first run pays for `pip install` / `npm ci`, from the registries, and
nothing is fetched while the tests run. Each is built in a temporary directory and renamed into
place, so an interrupted build is never mistaken for a finished one. (A venv used only through
`bin/python -m ...` may be moved: nothing in it depends on its own path.)
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

CLIENTS_DIR = Path(__file__).resolve().parent
JS_DIR = CLIENTS_DIR / "js"
JS_FILES = ("package.json", "package-lock.json")


def cache_root() -> Path:
    in_venv = sys.prefix != sys.base_prefix
    root = Path(sys.prefix) if in_venv else Path(tempfile.gettempdir()) / "metadata-gateway"
    path = root / "test-clients"
    path.mkdir(parents=True, exist_ok=True)
    return path


def run(command: list[str], cwd: Path | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def _cached(name: str, build: Callable[[Path], None]) -> Path:
    final = cache_root() / name
    if final.exists():
        return final
    building = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=final.parent))
    try:
        build(building)
        building.rename(final)
    except OSError:
        if not final.exists():  # not merely another session finishing first
            raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return final


def python_with(*requirements: str) -> Path:
    """The interpreter of a venv holding these pinned requirements (and what they need)."""
    version = ".".join(map(str, sys.version_info[:3]))
    key = hashlib.sha256("\n".join((version, *requirements)).encode()).hexdigest()[:12]

    def build(directory: Path) -> None:
        run([sys.executable, "-m", "venv", str(directory)])
        python = str(directory / "bin" / "python")
        run([python, "-m", "pip", "install", "--quiet", *requirements])

    return _cached(f"py{version}-{key}", build) / "bin" / "python"


def graphql_js() -> Path:
    """A directory holding tests/clients/js's locked node_modules (`npm ci`)."""
    digest = hashlib.sha256()
    for name in JS_FILES:
        digest.update((JS_DIR / name).read_bytes())

    def build(directory: Path) -> None:
        for name in JS_FILES:
            shutil.copy2(JS_DIR / name, directory / name)
        run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=directory)

    return _cached(f"graphql-js-{digest.hexdigest()[:12]}", build)
