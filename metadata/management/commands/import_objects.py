"""`manage.py import_objects FILE|-`: provisioning lines (NDJSON) from a file or standard input."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from metadata.models import Door, WriteContext
from metadata.provisioning import import_lines


class Command(BaseCommand):
    help = (
        "Create, update or retire linkable objects from NDJSON lines (contract section 13), "
        "each line alone. Prints a summary; exits 1 if any line failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="An NDJSON file, or - for standard input.")
        parser.add_argument(
            "--json", action="store_true", help="Print the summary as JSON (as the API does)."
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar on standard error."
        )

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        with self._open(file) as stream:
            total = None if file == "-" else _count_lines(file)
            bar = tqdm(
                total=total,
                unit=" lines",
                file=sys.stderr,
                disable=options["no_progress"],
                dynamic_ncols=True,
            )
            with bar:
                summary = import_lines(
                    _lines(stream),
                    context=WriteContext(actor_id=None, door=Door.PROVISIONING),
                    progress=bar.update,
                )
        if options["json"]:
            self.stdout.write(json.dumps(summary.as_dict(), indent=2))
        else:
            self.stdout.write(
                f"created {summary.created}, updated {summary.updated}, retired "
                f"{summary.retired}, unchanged {summary.unchanged}, failed {len(summary.failed)}"
            )
            for failure in summary.failed:
                self.stdout.write(f"line {failure.line}: {failure.reason}")
        if summary.failed:
            sys.exit(1)

    @contextlib.contextmanager
    def _open(self, file: str) -> Iterator[IO[bytes]]:
        if file == "-":
            yield sys.stdin.buffer
            return
        try:
            stream = open(file, "rb")  # noqa: SIM115 - closed by the context manager
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from error
        with stream:
            yield stream


def _lines(stream: IO[bytes]) -> Iterator[bytes]:
    yield from stream


def _count_lines(file: str) -> int:
    with open(file, "rb") as stream:
        return sum(1 for line in stream if line.strip())
