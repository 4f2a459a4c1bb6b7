"""`manage.py deliver_webhooks`: the webhook delivery worker (run several for throughput)."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from metadata.webhooks.delivery import run_once


class Command(BaseCommand):
    help = "Deliver metadata change events to webhook subscriptions, retrying with backoff."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")
        parser.add_argument("--batch", type=int, default=50)
        parser.add_argument("--poll", type=float, default=1.0, help="Seconds between idle polls.")

    def handle(self, *args: Any, once: bool, batch: int, poll: float, **options: Any) -> None:
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while not stopping:
            attempted = run_once(batch=batch)
            if once:
                break
            if not attempted:
                time.sleep(poll)
