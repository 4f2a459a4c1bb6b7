"""A real HTTP receiver on loopback that records what the gateway posts to it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    fail_next: int = 0  # answer 500 to this many requests first
    hang_next: int = 0  # hold this many requests for `hang_seconds` before answering
    hang_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.successes()) >= count:
                    return self.successes()
            time.sleep(0.05)
        raise AssertionError(f"expected {count} deliveries, got {len(self.successes())}")

    def successes(self) -> list[Received]:
        return [r for r in self.received if r.headers.get("x-answered") == "200"]


def handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with receiver.lock:
                if receiver.hang_next:
                    receiver.hang_next -= 1
                    hang = receiver.hang_seconds
                else:
                    hang = 0.0
                status = 500 if receiver.fail_next else 200
                if receiver.fail_next:
                    receiver.fail_next -= 1
            if hang:
                time.sleep(hang)
            headers["x-answered"] = str(status)
            with receiver.lock:
                receiver.received.append(Received(headers=headers, body=body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


LOOPBACK = "127.0.0.0/8"


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    """A receiver on 127.0.0.1 the gateway may deliver to: webhook targets must be public,
    so the test allows loopback by name (`WEBHOOK_ALLOWED_NETWORKS`, as an operator would
    allow a private network), and plain http as with `DEBUG` on (pytest-django turns it off;
    with it off only https URLs are accepted). A test about refused targets empties the
    allowed networks again."""
    settings.WEBHOOK_ALLOWED_NETWORKS = [LOOPBACK]
    settings.DEBUG = True
    receiver = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


def fast_policy(max_attempts: int = 5) -> Any:
    """A delivery policy for tests: short timeouts, leases and backoff."""
    from metadata.webhooks.delivery import Policy

    return Policy(
        timeout_seconds=2,
        lease_seconds=2,
        base_backoff_seconds=0.1,
        max_backoff_seconds=1,
        max_attempts=max_attempts,
    )
