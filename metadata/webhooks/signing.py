"""HMAC-SHA256 signatures a receiver can verify (Stripe's scheme).

The header is `X-Gateway-Signature: t=<unix seconds>,v1=<hex digest>`, the digest being
HMAC-SHA256 with the subscription's secret over `"<t>." + body`. After a secret rotation,
during the grace period, the header carries one `v1` per secret still in use, the new one
first (`t=...,v1=<new>,v1=<old>`): a receiver accepts the event when any `v1` matches its
secret. Receivers compare in constant time and refuse timestamps older than their tolerance
(replays).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence

SIGNATURE_HEADER = "X-Gateway-Signature"
EVENT_ID_HEADER = "X-Gateway-Event-Id"
DEFAULT_TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secrets: Sequence[str], body: bytes, timestamp: int | None = None) -> str:
    """One `v1` per secret, in the order given (the current secret first)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signatures = ",".join(f"v1={digest(secret, timestamp, body)}" for secret in secrets)
    return f"t={timestamp},{signatures}"


def verify(
    secret: str,
    body: bytes,
    header: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """What a receiver runs: one of the `v1` signatures matches and the timestamp is recent."""
    fields = [part.strip().partition("=") for part in header.split(",")]
    try:
        [timestamp] = [int(value) for name, _, value in fields if name == "t"]
    except ValueError:  # no `t`, several, or not a number
        return False
    sent = [value for name, _, value in fields if name == "v1"]
    current = time.time() if now is None else now
    if not sent or abs(current - timestamp) > tolerance:
        return False
    expected = digest(secret, timestamp, body)
    return any([hmac.compare_digest(value, expected) for value in sent])
