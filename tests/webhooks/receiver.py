"""A real HTTP receiver on loopback that records what the gateway posts to it."""

from __future__ import annotations

import contextlib
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
    path: str = "/hook"

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass(frozen=True)
class Misbehave:
    """How the receiver answers one request, when told to do other than 200 at once.

    `status` and `location` shape the answer; `delay` holds it before the status line (a
    receiver that times out); `hold` blocks it until the test sets `Receiver.release` (and
    sets `Receiver.arrived` first, so the test knows the request is in flight); `body_chunks`
    sends a body of that many bytes, one every `chunk_delay` seconds, after the headers (a
    slow body), and sets `Receiver.body_sent` when the last one is out.
    """

    status: int = 200
    location: str = ""
    delay: float = 0.0
    hold: bool = False
    body_chunks: int = 0
    chunk_delay: float = 0.0


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    fail_next: int = 0  # answer 500 to this many requests first
    hang_next: int = 0  # hold this many requests for `hang_seconds` before answering
    hang_seconds: float = 0.0
    script: list[Misbehave] = field(default_factory=list)  # how to answer the next requests
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    body_sent: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def then(self, *answers: Misbehave) -> None:
        """Answer the next requests as scripted (then 200s again)."""
        with self.lock:
            self.script.extend(answers)

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
                if receiver.script:
                    answer = receiver.script.pop(0)
                elif receiver.hang_next:
                    receiver.hang_next -= 1
                    answer = Misbehave(delay=receiver.hang_seconds)
                elif receiver.fail_next:
                    receiver.fail_next -= 1
                    answer = Misbehave(status=500)
                else:
                    answer = Misbehave()
            headers["x-answered"] = str(answer.status)
            with receiver.lock:
                receiver.received.append(Received(headers=headers, body=body, path=self.path))
            if answer.hold:
                receiver.arrived.set()
                receiver.release.wait(timeout=120)
            if answer.delay:
                time.sleep(answer.delay)
            # The gateway may have gone (timed out, closed early, was killed): as intended.
            with contextlib.suppress(OSError):
                self.answer(answer)

        def answer(self, answer: Misbehave) -> None:
            self.send_response(answer.status)
            if answer.location:
                self.send_header("Location", answer.location)
            self.send_header("Content-Length", str(answer.body_chunks))
            self.end_headers()
            self.wfile.flush()
            for _ in range(answer.body_chunks):
                time.sleep(answer.chunk_delay)
                self.wfile.write(b"x")
                self.wfile.flush()
            if answer.body_chunks:
                receiver.body_sent.set()

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
