"""`manage.py create_partner_client --name N --entity ID [...] [--provisioning]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from metadata.onboarding import OnboardingError, create_client


class Command(BaseCommand):
    help = (
        "Create a partner client serving the given entities (or, with --provisioning, a client "
        "that feeds objects and reaches no metadata). Prints CLIENT_ID=... and "
        "CLIENT_SECRET=...: the secret is shown this once, only its hash is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="Who the client is, for the admin.")
        parser.add_argument(
            "--entity",
            action="append",
            default=[],
            dest="entities",
            metavar="ID",
            help="An entity the client serves (UUID); repeat for several.",
        )
        parser.add_argument(
            "--provisioning",
            action="store_true",
            help="A provisioning client: may call POST /v1/provisioning/objects only.",
        )

    def handle(
        self, *args: Any, name: str, entities: list[str], provisioning: bool, **options: Any
    ) -> None:
        try:
            made = create_client(name=name, entity_ids=entities, provisioning=provisioning)
        except OnboardingError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"CLIENT_ID={made.client.client_id}")
        self.stdout.write(f"CLIENT_SECRET={made.secret}")
        self.stderr.write("Store the secret now: it is not shown again (only its hash is kept).")
