"""`manage.py issue_token EMAIL`: print an access token for that user."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from metadata.models import User
from metadata.tokens import access_token_for


class Command(BaseCommand):
    help = "Print a 60-minute access token for the user with this email address."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args: Any, email: str, **options: Any) -> None:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user has the email address {email!r}.")
        if not user.is_active:
            raise CommandError(f"The user {email!r} is inactive; activate them first.")
        self.stdout.write(str(access_token_for(user)))
