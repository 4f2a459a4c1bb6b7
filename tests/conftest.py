"""Shared test fixtures: the demo data of contract section 8 and tokens for its users."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from metadata.models import PartnerClient, User
from metadata.tokens import access_token_for
from tests.live import gunicorn_server, live_demo

__all__ = ["gunicorn_server", "live_demo"]

DEMO_FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "demo.json"

ENTITY_ONE = "3a9c5e1e-0000-4000-8000-000000000001"
ENTITY_TWO = "3a9c5e1e-0000-4000-8000-000000000002"
COUNTERPART_ONE = "3a9c5e1e-0000-4000-8000-000000000011"
COUNTERPART_TWO = "3a9c5e1e-0000-4000-8000-000000000012"
PAYABLE_ONE = "3a9c5e1e-0000-4000-8000-000000000021"
PAYABLE_TWO = "3a9c5e1e-0000-4000-8000-000000000022"
ENTITY_USER_ID = "3a9c5e1e-0000-4000-8000-0000000000e1"
PARTNER_CLIENT_ID = "3a9c5e1e-0000-4000-8000-0000000000c1"
PARTNER_CLIENT_SECRET = "demo-client-secret"
PARTNER_CLIENT_TWO_ID = "3a9c5e1e-0000-4000-8000-0000000000c2"
PARTNER_CLIENT_TWO_SECRET = "demo-client-secret-2"
PROVISIONING_CLIENT_ID = "3a9c5e1e-0000-4000-8000-0000000000c9"
DEMO_API_KEY = "demo-api-key-c1"
DEMO_PASSWORD = "demo-password"

SOME_TEST = "some.test@email.com"
COOL_USER = "some_cool_account_user_email@example.com"
ENTITY_USER = "entity.user@example.com"
PARTNER = "partner@example.com"
PARTNER_TWO = "partner.two@example.com"
SUPPORT = "support@example.com"
SUPPORT_LEAD = "support.lead@example.com"
DEMO_USERS = (SOME_TEST, COOL_USER, ENTITY_USER, PARTNER, PARTNER_TWO, SUPPORT, SUPPORT_LEAD)
DEMO_CLIENTS = (PARTNER_CLIENT_ID, PARTNER_CLIENT_TWO_ID, PROVISIONING_CLIENT_ID)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """The test database, migrated and then flushed once.

    Every transactional test ends with a flush: the tables emptied, their sequences restarted,
    the content types and permissions made again. Starting the run from that same state means
    that the content type ids a live server caches hold for the whole run (migrations number
    them in another order than a flush does), and that a test restarting sequences never
    collides with rows a data migration left behind (the support groups' permissions).
    """
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def demo(db: None) -> None:
    """The demo data, loaded for one test and rolled back after it."""
    call_command("loaddata", str(DEMO_FIXTURE), verbosity=0)


@pytest.fixture
def token_for(demo: None) -> Callable[[str], str]:
    """An access token for a demo user, by email, or a partner client's own token (what
    its `client_credentials` grant issues), by client id."""

    def make(email_or_client_id: str) -> str:
        if email_or_client_id in DEMO_CLIENTS:
            client = PartnerClient.objects.select_related("user").get(pk=email_or_client_id)
            return str(access_token_for(client.user, client=client))
        return str(access_token_for(User.objects.get(email=email_or_client_id)))

    return make
