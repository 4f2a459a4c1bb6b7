"""API keys in the admin and `manage.py create_api_key`: shown once, kept as prefix and hash,
never displayed, filtered or searched by their hash, revocable (contract section 11)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from metadata.models import APIKey, PartnerClient, User
from tests.conftest import DEMO_API_KEY, PARTNER_CLIENT_ID, PARTNER_CLIENT_TWO_ID, SUPPORT_LEAD

pytestmark = pytest.mark.django_db

BASE = "/admin/metadata/apikey/"
OBTAIN = """
mutation obtainKrakenToken($input: ObtainJSONWebTokenInput!) {
  obtainKrakenToken(input: $input) { token refreshToken }
}
"""
SHOWN_KEY = re.compile(r"<code>(mgk_[A-Za-z0-9_-]+)</code>")


@pytest.fixture
def superuser(demo: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root@example.com", "root-password-123"))
    return client


def obtain(raw: str) -> dict[str, Any]:
    response = Client().post(
        "/v1/graphql/",
        json.dumps({"query": OBTAIN, "variables": {"input": {"APIKey": raw}}}),
        content_type="application/json",
    )
    return response.json()


def page_text(response: Any) -> str:
    return response.content.decode()


def test_a_key_created_in_the_admin_is_shown_once_and_works(superuser: Client) -> None:
    response = superuser.post(f"{BASE}add/", {"client": PARTNER_CLIENT_TWO_ID}, follow=True)
    assert response.status_code == 200
    shown = SHOWN_KEY.findall(page_text(response))
    assert len(shown) == 1, page_text(response)
    raw = shown[0]
    key = APIKey.objects.get(client_id=PARTNER_CLIENT_TWO_ID)
    assert key.prefix == raw[:12]
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in key.key_hash

    assert obtain(raw)["data"]["obtainKrakenToken"]["token"]

    # Never again: not on the list, not on the key's page, not in a second visit.
    for url in (BASE, f"{BASE}{key.pk}/change/", BASE):
        html = page_text(superuser.get(url))
        assert raw not in html
        assert key.key_hash not in html
    assert key.prefix in page_text(superuser.get(BASE))


def test_the_add_page_asks_only_for_the_client(superuser: Client) -> None:
    form = superuser.get(f"{BASE}add/").context["adminform"].form
    assert list(form.fields) == ["client"]
    response = superuser.post(
        f"{BASE}add/", {"client": PARTNER_CLIENT_ID, "prefix": "chosen-pref", "key_hash": "0" * 64}
    )
    assert response.status_code == 302
    created = APIKey.objects.exclude(prefix=DEMO_API_KEY[:12]).get()
    assert created.prefix != "chosen-pref"
    assert created.key_hash != "0" * 64


def test_a_key_page_shows_no_hash_and_changes_nothing(superuser: Client) -> None:
    key = APIKey.objects.get(prefix=DEMO_API_KEY[:12])
    page = superuser.get(f"{BASE}{key.pk}/change/")
    assert page.status_code == 200
    html = page_text(page)
    assert key.key_hash not in html
    assert "key_hash" not in html
    superuser.post(f"{BASE}{key.pk}/change/", {"client": PARTNER_CLIENT_TWO_ID, "_save": "Save"})
    key.refresh_from_db()
    assert str(key.client_id) == PARTNER_CLIENT_ID


@pytest.mark.parametrize(
    "query",
    [
        "key_hash__startswith=8",
        "key_hash__regex=^8",
        "key_hash=85f8b5a8ea1285c335b152fba74494e4002f7a370423627a148b782b75701c1e",
        "key_hash__gt=0",
    ],
)
def test_the_hash_cannot_be_filtered_on(superuser: Client, query: str) -> None:
    """The attack of finding 1, on API keys: a filter that says whether the hash matches."""
    response = superuser.get(f"{BASE}?{query}")
    assert response.status_code == 400


def test_the_hash_cannot_be_searched(superuser: Client) -> None:
    key = APIKey.objects.get(prefix=DEMO_API_KEY[:12])
    found = superuser.get(BASE, {"q": key.key_hash[:8]}).context["cl"].result_list
    assert list(found) == []
    by_prefix = superuser.get(BASE, {"q": key.prefix}).context["cl"].result_list
    assert list(by_prefix) == [key]


def test_the_revoke_action_ends_a_key(superuser: Client) -> None:
    key = APIKey.objects.get(prefix=DEMO_API_KEY[:12])
    assert obtain(DEMO_API_KEY)["data"]["obtainKrakenToken"]["token"]
    response = superuser.post(
        BASE, {"action": "revoke", "_selected_action": [str(key.pk)]}, follow=True
    )
    assert response.status_code == 200
    key.refresh_from_db()
    assert key.revoked_at is not None
    answer = obtain(DEMO_API_KEY)
    assert answer["data"]["obtainKrakenToken"] is None
    assert answer["errors"][0]["extensions"]["errorCode"] == "KT-CT-1138"
    revoked = superuser.get(BASE, {"revoked_at__isempty": "0"}).context["cl"].result_list
    assert list(revoked) == [key]


def test_staff_without_the_api_key_permissions_do_not_see_the_page(demo: None) -> None:
    """Support leads may change any metadata, not partners' credentials."""
    client = Client()
    client.force_login(User.objects.get(email=SUPPORT_LEAD))
    assert client.get(BASE).status_code == 403
    assert client.post(f"{BASE}add/", {"client": PARTNER_CLIENT_ID}).status_code == 403
    assert APIKey.objects.count() == 1


def test_the_partner_client_page_edits_the_entities_it_serves(superuser: Client) -> None:
    client = PartnerClient.objects.get(pk=PARTNER_CLIENT_TWO_ID)
    page = superuser.get(f"/admin/metadata/partnerclient/{client.pk}/change/")
    assert "entities" in page.context["adminform"].form.fields
    response = superuser.post(
        f"/admin/metadata/partnerclient/{client.pk}/change/",
        {
            "name": client.name,
            "kind": client.kind,
            "user": str(client.user_id),
            "entities": [],
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    assert list(client.entities.all()) == []


# manage.py create_api_key ---------------------------------------------------------------------


def test_the_command_prints_a_working_key_once(
    demo: None, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("create_api_key", PARTNER_CLIENT_TWO_ID)
    out, err = capsys.readouterr()
    raw = out.strip()
    assert raw.startswith("mgk_") and len(raw) == 47
    key = APIKey.objects.get(client_id=PARTNER_CLIENT_TWO_ID)
    assert key.prefix in err and raw not in err
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert obtain(raw)["data"]["obtainKrakenToken"]["token"]
    call_command("create_api_key", PARTNER_CLIENT_TWO_ID)
    assert capsys.readouterr().out.strip() != raw  # a new key each time


@pytest.mark.parametrize(
    ("client_id", "message"),
    [("not-a-uuid", "not a client_id"), ("3a9c5e1e-0000-4000-8000-0000000000ff", "No partner")],
)
def test_the_command_refuses_an_unknown_client(demo: None, client_id: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("create_api_key", client_id)
    assert APIKey.objects.count() == 1
