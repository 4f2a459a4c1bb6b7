"""`manage.py demo_examples`: ready-to-paste curl calls with fresh tokens for the demo users."""

from __future__ import annotations

import json
import shlex
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from metadata.models import User
from metadata.tokens import access_token_for

COUNTERPART = "3a9c5e1e-0000-4000-8000-000000000011"
ENTITY_ONE = "3a9c5e1e-0000-4000-8000-000000000001"
UPDATE_METADATA = (
    "mutation updateMetadata($input: MetadataInput!) "
    "{ updateMetadata(input: $input) { metadata { key value } } }"
)


def _token(email: str) -> str:
    user = User.objects.filter(email=email, is_active=True).first()
    if user is None:
        raise CommandError(f"No active user {email}: load the demo data first (make run does).")
    return str(access_token_for(user))


class Command(BaseCommand):
    help = "Print curl examples for the demo data, with fresh 60-minute tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args: Any, base_url: str, **options: Any) -> None:
        base = base_url.rstrip("/")
        partner = _token("partner@example.com")
        account_user = _token("some.test@email.com")
        rest = f"{base}/v1/counterparts/{COUNTERPART}/partner_metadata"
        put_body = json.dumps({"metadata": {"external_id": "id_6c8f1262fdbc", "comment": ""}})
        gql_body = json.dumps(
            {
                "query": UPDATE_METADATA,
                "variables": {
                    "input": {
                        "linkedObjectType": "ACCOUNT",
                        "identifier": "A-154321",
                        "key": "some_unique_key",
                        "value": json.dumps({"pet_type": "dog", "name": "fang"}),
                    }
                },
            }
        )
        q = shlex.quote
        lines = [
            "",
            "Metadata gateway: demo data loaded. Tokens below are valid for 60 minutes.",
            "",
            "# REST (Monite-shaped): set, read, patch and delete a counterpart's partner metadata",
            f"export PARTNER_TOKEN={partner}",
            f"curl -X PUT {q(rest)} -H 'X-Monite-Entity-Id: {ENTITY_ONE}' "
            f"-H \"Authorization: Bearer $PARTNER_TOKEN\" -H 'Content-Type: application/json' "
            f"-d {q(put_body)}",
            f'curl {q(rest)} -H "Authorization: Bearer $PARTNER_TOKEN"',
            f'curl -X PATCH {q(rest)} -H "Authorization: Bearer $PARTNER_TOKEN" '
            f"-H 'Content-Type: application/json' -d '{{\"metadata\": {{\"comment\": null}}}}'",
            f'curl -X PUT {q(rest)} -H "Authorization: Bearer $PARTNER_TOKEN" '
            "-H 'Content-Type: application/json' -d '{\"metadata\": {}}'",
            "",
            "# GraphQL (Kraken-shaped): updateMetadata on account A-154321 as its account user",
            f"export ACCOUNT_USER_TOKEN={account_user}",
            f'curl -X POST {q(base + "/v1/graphql/")} -H "Authorization: JWT $ACCOUNT_USER_TOKEN" '
            f"-H 'Content-Type: application/json' -d {q(gql_body)}",
            "",
            f"# OpenAPI: {base}/v1/docs/   GraphiQL: {base}/v1/graphql/   "
            f"Admin: {base}/admin/ (support.lead@example.com / demo-password)",
            "",
        ]
        self.stdout.write("\n".join(lines))
