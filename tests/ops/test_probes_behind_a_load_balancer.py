"""Probes answer over plain HTTP in production settings (issue 24).

Load balancers and orchestrators probe the backend directly over HTTP and count a 301 as
unhealthy, so `/healthz`, `/readyz` and `/metrics` are exempt from the HTTPS redirect; every
other path still redirects.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import requests
from django.test import Client, override_settings

from tests.live import LiveServer, start_gunicorn

PROBES = ("/healthz", "/readyz", "/metrics")
REDIRECTED = ("/v1/schema/", "/admin/login/", "/healthz/", "/healthzz", "/v1/healthz", "/xreadyz")


@pytest.fixture
def production_redirect(settings: object) -> Iterator[None]:
    """The HTTPS redirect as production turns it on (the project's own exemptions kept)."""
    with override_settings(SECURE_SSL_REDIRECT=True, DEBUG=False):
        yield


@pytest.mark.parametrize("path", PROBES)
def test_probes_answer_over_plain_http(db: None, production_redirect: None, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200, response.headers.get("Location")


@pytest.mark.parametrize("path", REDIRECTED)
def test_other_paths_still_redirect_to_https(
    db: None, production_redirect: None, path: str
) -> None:
    response = Client().get(path)
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


@pytest.fixture(scope="module")
def production_server(django_db_setup: None, django_db_blocker: object) -> Iterator[LiveServer]:
    server = start_gunicorn(
        workers=1,
        extra_env={
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
        },
    )
    yield server
    server.stop()


@pytest.mark.live
def test_a_production_server_answers_probes_over_http_and_redirects_the_rest(
    production_server: LiveServer,
) -> None:
    for path in PROBES:
        response = requests.get(production_server.url + path, allow_redirects=False, timeout=10)
        assert response.status_code == 200, (path, response.headers.get("Location"))
    response = requests.get(
        production_server.url + "/v1/schema/", allow_redirects=False, timeout=10
    )
    assert response.status_code == 301
    assert response.headers["Location"].startswith("https://127.0.0.1")
