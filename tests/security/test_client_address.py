"""Finding 7: the client address behind a reverse proxy, and rate limits shared by workers.

Contract section 11, "Client addresses behind a proxy": rate limits and `/metrics` key on the
address from `X-Forwarded-For` only when the direct peer is one of `TRUSTED_PROXIES`
(the rightmost address that is not itself a trusted proxy); otherwise on the direct peer.
Behind a proxy every caller used to share the proxy's bucket (one caller could lock everyone
out of logging in) and `/metrics` saw everyone as loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from metadata.graphql.view import document_cache
from tests.conftest import DEMO_PASSWORD, SOME_TEST
from tests.live import GUNICORN, free_port, refused_start

PROJECT_DIR = Path(__file__).resolve().parents[2]
PROXY = "127.0.0.1"  # the reverse proxy in front of `make serve`'s loopback bind
ALICE, BOB = "198.51.100.7", "203.0.113.9"
WRONG_LOGIN = json.dumps({"email": SOME_TEST, "password": f"wrong-{DEMO_PASSWORD}"})
GRAPHQL_LOGIN = (
    f'mutation {{ obtainKrakenToken(input: {{email: "{SOME_TEST}", '
    f'password: "wrong-{DEMO_PASSWORD}"}}) {{ token }} }}'
)


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    document_cache.clear()
    cache.clear()


@pytest.fixture
def behind_proxy(settings: Any) -> None:
    settings.TRUSTED_PROXIES = ["127.0.0.1/32", "10.0.0.0/8"]
    settings.GATEWAY_THROTTLE_RATES = {**settings.GATEWAY_THROTTLE_RATES, "anonymous": "1/hour"}


def rest_login(peer: str, forwarded: str | None = None) -> int:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    response = Client().post(
        "/v1/auth/token", WRONG_LOGIN, content_type="application/json", REMOTE_ADDR=peer, **extra
    )
    return response.status_code


def graphql_login(peer: str, forwarded: str | None = None) -> str:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    response = Client().post(
        "/v1/graphql/",
        {"query": GRAPHQL_LOGIN},
        content_type="application/json",
        REMOTE_ADDR=peer,
        **extra,
    )
    return response.json()["errors"][0]["extensions"]["errorCode"]


@pytest.mark.usefixtures("demo", "behind_proxy")
def test_rest_clients_behind_a_trusted_proxy_have_their_own_buckets() -> None:
    assert rest_login(PROXY, ALICE) == 401
    assert rest_login(PROXY, ALICE) == 429  # Alice spent her budget...
    assert rest_login(PROXY, BOB) == 401  # ...and Bob still has his


@pytest.mark.usefixtures("demo", "behind_proxy")
def test_graphql_clients_behind_a_trusted_proxy_have_their_own_buckets() -> None:
    assert graphql_login(PROXY, ALICE) == "KT-CT-1138"
    assert graphql_login(PROXY, ALICE) == "KT-CT-1199"
    assert graphql_login(PROXY, BOB) == "KT-CT-1138"


@pytest.mark.usefixtures("demo", "behind_proxy")
def test_rest_and_graphql_share_the_clients_budget() -> None:
    assert rest_login(PROXY, ALICE) == 401
    assert graphql_login(PROXY, ALICE) == "KT-CT-1199"


@pytest.mark.usefixtures("demo", "behind_proxy")
def test_an_untrusted_peer_cannot_escape_its_limit_with_x_forwarded_for() -> None:
    assert rest_login(BOB, "192.0.2.1") == 401
    assert rest_login(BOB, "192.0.2.2") == 429
    assert graphql_login(BOB, "192.0.2.3") == "KT-CT-1199"


@pytest.mark.usefixtures("demo", "behind_proxy")
def test_a_client_cannot_escape_its_limit_by_prepending_addresses() -> None:
    """The proxy appends the address it saw; what the client wrote before it is not trusted."""
    assert rest_login(PROXY, f"192.0.2.1, {ALICE}") == 401
    assert rest_login(PROXY, f"192.0.2.2, {ALICE}") == 429
    assert rest_login("10.1.2.3", f"192.0.2.3, {ALICE}, 10.9.9.9") == 429  # two proxies


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        (ALICE, None, ALICE),
        (ALICE, BOB, ALICE),  # untrusted peer: its header is ignored
        (PROXY, None, PROXY),
        (PROXY, "", PROXY),
        (PROXY, BOB, BOB),
        (PROXY, f"{ALICE}, {BOB}", BOB),  # the rightmost untrusted address
        (PROXY, f"{ALICE}, 10.0.0.5", ALICE),  # trusted hops are skipped
        (PROXY, "10.0.0.6, 10.0.0.5", "10.0.0.6"),  # all trusted: the farthest
        (PROXY, f"not-an-address, {BOB}", BOB),
        (PROXY, "not-an-address", PROXY),  # garbage from the proxy's side: the proxy
        (PROXY, f"{BOB}, not-an-address, 10.0.0.5", "10.0.0.5"),
        (PROXY, "2001:db8::1", "2001:db8::1"),
        (PROXY, "[2001:db8::1]:4711", "2001:db8::1"),
        (PROXY, f"{BOB}:4711", BOB),
        ("::1", BOB, "::1"),  # ::1 is not in TRUSTED_PROXIES here
    ],
)
@pytest.mark.usefixtures("behind_proxy")
def test_client_address(peer: str, forwarded: str | None, expected: str) -> None:
    from metadata.addresses import client_address

    meta = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_address(meta) == expected


def test_without_trusted_proxies_the_header_is_ignored(settings: Any) -> None:
    from metadata.addresses import client_address

    settings.TRUSTED_PROXIES = []
    meta = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": BOB}
    assert client_address(meta) == PROXY


@pytest.mark.django_db
@pytest.mark.usefixtures("behind_proxy")
def test_metrics_see_the_client_behind_the_proxy_not_the_proxy() -> None:
    assert Client().get("/metrics", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=BOB).status_code == 404
    local = Client().get("/metrics", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert local.status_code == 200
    assert Client().get("/metrics", REMOTE_ADDR=PROXY).status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("behind_proxy")
def test_metrics_refuse_a_forged_loopback_from_an_untrusted_peer() -> None:
    forged = Client().get("/metrics", REMOTE_ADDR=BOB, HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert forged.status_code == 404


def test_trusted_proxies_come_from_the_environment() -> None:
    code = "from django.conf import settings; print(settings.TRUSTED_PROXIES)"
    env = {**os.environ, "TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.1 ,"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['10.0.0.0/8', '192.0.2.1']"


def test_a_bad_trusted_proxy_refuses_to_start() -> None:
    env = {**os.environ, "TRUSTED_PROXIES": "10.0.0.0/8,proxy.example.com"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr
    assert "proxy.example.com" in result.stderr


def serve(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`make serve`'s gunicorn command, expected to refuse to start; killed if it serves."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": "a-production-secret-key-for-this-test-0123456789abcdef",
            "JWT_SIGNING_KEY": "a-production-jwt-key-for-this-test-0123456789abcdef",
            "BIND": f"127.0.0.1:{free_port()}",
            "GUNICORN_LOG_LEVEL": "warning",
            **extra_env,
        }
    )
    return refused_start(GUNICORN, env)


def test_serve_refuses_several_workers_that_would_each_count_alone() -> None:
    result = serve({"WEB_CONCURRENCY": "2"})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "REDIS_URL" in lines[0]
    assert "WEB_CONCURRENCY" in lines[0]
