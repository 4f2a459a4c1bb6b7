"""`manage.py create_api_key CLIENT_ID`: a new API key for a partner client, printed once."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from metadata.models import APIKey, PartnerClient


class Command(BaseCommand):
    help = (
        "Create an API key for the partner client with this client_id and print it. "
        "Only its prefix and a hash are stored: copy it now, it cannot be shown again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_id", help="The partner client's client_id (a UUID).")

    def handle(self, *args: Any, client_id: str, **options: Any) -> None:
        try:
            key = uuid.UUID(client_id.strip())
        except ValueError as error:
            raise CommandError(f"{client_id!r} is not a client_id (a UUID).") from error
        client = PartnerClient.objects.filter(pk=key).first()
        if client is None:
            raise CommandError(f"No partner client has the client_id {key}.")
        api_key = APIKey(client=client)
        raw = api_key.issue()
        self.stderr.write(
            f"API key {api_key.prefix}… created for {client}. It is printed once, below; "
            "revoke it in the admin (API keys) when it is no longer needed."
        )
        self.stdout.write(raw)
