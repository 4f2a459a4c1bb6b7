"""Webhook targets are public (contract section 11; issue 17, finding 3).

The attacker is a partner with CAN_MUTATE_METADATA who points a subscription at the
gateway's own network (loopback, the cloud metadata address, private ranges) and reads the
delivery log as a port scanner. Refused at creation when the host is a literal address in
any notation the resolver accepts; refused at delivery on the address actually connected
to, so a public-looking name that resolves to loopback (DNS rebinding) gets nowhere.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests.adapters
from django.test import Client

from metadata.models import (
    DeliveryStatus,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from metadata.webhooks import delivery, signing, subscriptions
from tests.conftest import COUNTERPART_ONE, PARTNER
from tests.webhooks.receiver import Receiver, fast_policy, handler_for, receiver

__all__ = ["receiver"]

BASE = "/v1/webhook_subscriptions"
ONE_TRY = fast_policy(max_attempts=1)
REFUSED = "target address not allowed"
REBOUND_NAME = "hooks.example.com"

LITERAL_PRIVATE_HOSTS = (
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "0x7f.0.0.1",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[0:0:0:0:0:0:0:1]",
    "169.254.169.254",
    "[fe80::1]",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "100.64.0.1",
    "[fc00::1]",
    "[fd12:3456::1]",
    "224.0.0.1",
    "[ff02::1]",
    "0.0.0.0",
    "0",
    "[::]",
    "240.0.0.1",
    "255.255.255.255",
    "localhost",
    "LOCALHOST",
    "localhost.",
    "api.localhost",
)


def call(method: str, path: str, token: str, body: Any = None) -> Any:
    kwargs: dict[str, Any] = {"headers": {"Authorization": f"Bearer {token}"}}
    if body is not None:
        kwargs |= {"data": json.dumps(body), "content_type": "application/json"}
    return getattr(Client(), method)(path, **kwargs)


def put_counterpart(token: str, document: dict[str, Any]) -> None:
    response = call(
        "put", f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata", token, {"metadata": document}
    )
    assert response.status_code == 200, response.content


def planted(url: str) -> WebhookSubscription:
    """A subscription written straight to the table, as if its URL had passed creation
    (a name that resolved to a public address then, or a row from before the check)."""
    return WebhookSubscription.objects.create(
        url=url,
        object_type="counterpart_partner_metadata",
        secret=signing.new_secret(),
        created_by=User.objects.get(email=PARTNER),
    )


@pytest.fixture
def rebound_to_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """`hooks.example.com` resolves to 127.0.0.1, as an attacker's DNS would answer at
    delivery time; every other name resolves as usual. Yields the names looked up."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        asked.append(name)
        if name and name.rstrip(".").lower() == REBOUND_NAME:
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    yield asked


@pytest.mark.parametrize("host", LITERAL_PRIVATE_HOSTS)
def test_a_literal_private_address_is_refused_at_creation(
    host: str, token_for: Callable[[str], str]
) -> None:
    token = token_for(PARTNER)
    body = {"url": f"https://{host}:5432/hook", "object_type": "counterpart_partner_metadata"}
    response = call("post", BASE, token, body)
    assert response.status_code == 422, (host, response.content)
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "url"]
    assert "public" in error["msg"]
    assert WebhookSubscription.objects.count() == 0


@pytest.mark.parametrize("host", ("127.1", "[::ffff:127.0.0.1]", "169.254.169.254", "localhost"))
def test_a_literal_private_address_is_refused_when_changing_the_url(
    host: str, token_for: Callable[[str], str]
) -> None:
    token = token_for(PARTNER)
    body = {"url": "https://hooks.example.com/hook", "object_type": "counterpart_partner_metadata"}
    created = call("post", BASE, token, body).json()
    response = call("patch", f"{BASE}/{created['id']}", token, {"url": f"https://{host}/x"})
    assert response.status_code == 422, response.content
    assert WebhookSubscription.objects.get().url == "https://hooks.example.com/hook"


def test_only_https_when_debug_is_off(token_for: Callable[[str], str], settings: Any) -> None:
    settings.DEBUG = False
    token = token_for(PARTNER)
    body = {"url": "http://hooks.example.com/hook", "object_type": "counterpart_partner_metadata"}
    response = call("post", BASE, token, body)
    assert response.status_code == 422
    assert "https" in response.json()["detail"][0]["msg"]
    body["url"] = "https://hooks.example.com/hook"
    assert call("post", BASE, token, body).status_code == 201


def test_public_literal_addresses_and_names_are_accepted(token_for: Callable[[str], str]) -> None:
    token = token_for(PARTNER)
    for url in ("https://93.184.215.14/hook", "https://[2606:4700::1]/hook", "https://a.b.io/h"):
        body = {"url": url, "object_type": "counterpart_partner_metadata"}
        assert call("post", BASE, token, body).status_code == 201, url


def test_a_name_that_resolves_to_loopback_is_refused_at_delivery(
    token_for: Callable[[str], str],
    receiver: Receiver,
    rebound_to_loopback: list[str],
    settings: Any,
) -> None:
    """THE rebinding test: the name passed creation, then resolves to 127.0.0.1."""
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    port = receiver.url.split(":")[2].split("/")[0]
    subscription = planted(f"http://{REBOUND_NAME}:{port}/hook")
    token = token_for(PARTNER)
    put_counterpart(token, {"a": 1})
    delivery.run_once(policy=ONE_TRY)
    assert REBOUND_NAME in rebound_to_loopback  # the worker did look the name up
    assert receiver.received == []  # and no request reached the loopback receiver
    [refused] = WebhookDelivery.objects.all()
    assert (refused.status, refused.last_status_code) == (DeliveryStatus.FAILED, None)
    assert refused.last_error == REFUSED
    [attempt] = WebhookAttempt.objects.all()
    assert (attempt.status_code, attempt.duration_ms, attempt.error) == (None, None, REFUSED)
    log = call("get", f"{BASE}/{subscription.pk}/deliveries", token).json()["data"]
    assert log[0]["last_status_code"] is None and log[0]["last_error"] == REFUSED
    assert log[0]["attempts_log"] == [
        {"started_at": log[0]["attempts_log"][0]["started_at"], "duration_ms": None}
        | {"status_code": None, "error": REFUSED}
    ]


def test_a_name_that_resolves_to_loopback_is_delivered_when_the_network_is_allowed(
    token_for: Callable[[str], str],
    receiver: Receiver,
    rebound_to_loopback: list[str],
    settings: Any,
) -> None:
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    port = receiver.url.split(":")[2].split("/")[0]
    subscription = planted(f"http://{REBOUND_NAME}:{port}/hook")
    put_counterpart(token_for(PARTNER), {"a": 1})
    delivery.run_once(policy=ONE_TRY)
    [received] = receiver.wait_for(1)
    assert received.headers["host"] == f"{REBOUND_NAME}:{port}"  # the name, not the address
    header = received.headers[signing.SIGNATURE_HEADER.lower()]
    assert signing.verify(subscription.secret, received.body, header)
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED


@pytest.mark.parametrize(
    "url",
    (
        "http://127.0.0.1:{port}/hook",
        "http://2130706433:{port}/hook",
        "http://[::ffff:127.0.0.1]:{port}/hook",
        "http://localhost:{port}/hook",
    ),
)
def test_a_planted_private_url_is_refused_at_delivery(
    url: str, token_for: Callable[[str], str], receiver: Receiver, settings: Any
) -> None:
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    port = receiver.url.split(":")[2].split("/")[0]
    planted(url.format(port=port))
    put_counterpart(token_for(PARTNER), {"a": 1})
    delivery.run_once(policy=ONE_TRY)
    assert receiver.received == []
    attempt = WebhookAttempt.objects.get()
    assert (attempt.status_code, attempt.duration_ms, attempt.error) == (None, None, REFUSED)


def test_redeliver_gives_one_attempt_not_a_fresh_retry_budget(
    token_for: Callable[[str], str], receiver: Receiver
) -> None:
    """A redelivered failure gets one more attempt, not `max_attempts` more."""
    token = token_for(PARTNER)
    created = call(
        "post", BASE, token, {"url": receiver.url, "object_type": "counterpart_partner_metadata"}
    ).json()
    policy = fast_policy(max_attempts=2)
    receiver.fail_next = 10
    put_counterpart(token, {"a": 1})
    for _ in range(2):
        delivery.run_once(policy=policy)
        WebhookDelivery.objects.update(next_attempt_at=WebhookDelivery.objects.get().created_at)
    failed = WebhookDelivery.objects.get()
    assert (failed.status, failed.attempts) == (DeliveryStatus.FAILED, 2)
    path = f"{BASE}/{created['id']}/deliveries/{failed.pk}/redeliver"
    answer = call("post", path, token).json()
    assert (answer["status"], answer["attempts"]) == ("pending", 2)
    delivery.run_once(policy=policy)
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (DeliveryStatus.FAILED, 3)
    assert len(receiver.received) == 3


def test_redeliver_does_not_pull_a_pending_retry_forward(
    token_for: Callable[[str], str], receiver: Receiver
) -> None:
    """A delivery waiting for its backoff stays where it is: redeliver is no way around it."""
    token = token_for(PARTNER)
    created = call(
        "post", BASE, token, {"url": receiver.url, "object_type": "counterpart_partner_metadata"}
    ).json()
    receiver.fail_next = 1
    put_counterpart(token, {"a": 1})
    delivery.run_once(policy=fast_policy(max_attempts=5))
    waiting = WebhookDelivery.objects.get()
    assert (waiting.status, waiting.attempts) == (DeliveryStatus.PENDING, 1)
    path = f"{BASE}/{created['id']}/deliveries/{waiting.pk}/redeliver"
    answer = call("post", path, token)
    assert answer.status_code == 200 and answer.json()["status"] == "pending"
    again = WebhookDelivery.objects.get()
    assert (again.next_attempt_at, again.attempts) == (waiting.next_attempt_at, 1)


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def tls_receiver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """An https receiver on 127.0.0.1 whose certificate names only `hooks.example.com`,
    signed by a test CA the worker is made to trust (requests' default CA bundle)."""
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
            "-subj", "/CN=Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=tmp_path)  # fmt: skip
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr",
            "-subj", f"/CN={REBOUND_NAME}", cwd=tmp_path)  # fmt: skip
    (tmp_path / "ext.cnf").write_text(f"subjectAltName=DNS:{REBOUND_NAME}\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "ext.cnf",
            cwd=tmp_path)  # fmt: skip
    monkeypatch.setattr(requests.adapters, "DEFAULT_CA_BUNDLE_PATH", str(tmp_path / "ca.pem"))
    received = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(received))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    received.url = f"https://{REBOUND_NAME}:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield received
    server.shutdown()
    server.server_close()


def test_https_goes_to_the_checked_address_with_the_name_in_sni_and_certificate_check(
    token_for: Callable[[str], str],
    tls_receiver: Receiver,
    rebound_to_loopback: list[str],
    settings: Any,
) -> None:
    """The worker connects to the address it checked, yet TLS still verifies the name: the
    certificate names `hooks.example.com` only, not 127.0.0.1."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    subscription = subscriptions.create_subscription(
        url=tls_receiver.url,
        object_type="counterpart_partner_metadata",
        actor_id=User.objects.get(email=PARTNER).pk,
    )
    put_counterpart(token_for(PARTNER), {"a": 1})
    delivery.run_once(policy=ONE_TRY)
    [received] = tls_receiver.wait_for(1)
    port = tls_receiver.url.split(":")[2].split("/")[0]
    assert received.headers["host"] == f"{REBOUND_NAME}:{port}"
    header = received.headers[signing.SIGNATURE_HEADER.lower()]
    assert signing.verify(subscription.secret, received.body, header)
    settings.WEBHOOK_ALLOWED_NETWORKS = []  # the same name, no longer allowed: nothing sent
    put_counterpart(token_for(PARTNER), {"a": 2})
    delivery.run_once(policy=ONE_TRY)
    assert len(tls_receiver.received) == 1


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/a b",
        "https://hooks.example.com/é",
        "https://hooks.example.com/\x7f",
        "https://hooks.example.com/a<b",
        "https://hooks.example.com/%zz",
        "https://hooks.example.com/a#fragment",
    ],
)
def test_a_url_outside_the_characters_of_a_uri_is_refused(
    url: str, token_for: Callable[[str], str]
) -> None:
    """The document allows a path or query of URI characters after the host (no fragment);
    the service holds to it."""
    body = {"url": url, "object_type": "counterpart_partner_metadata"}
    response = call("post", BASE, token_for(PARTNER), body)
    assert response.status_code == 422, response.content
    assert "characters of a URI" in response.json()["detail"][0]["msg"]
    assert not WebhookSubscription.objects.exists()
