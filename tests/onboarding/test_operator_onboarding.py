"""Operator onboarding without a shell (issue 24): clients from a command, support groups from a
migration, a superuser from the environment."""

from __future__ import annotations

import importlib
import io
import json
import re
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import Client

from metadata.models import ClientKind, Entity, Metadata, PartnerClient, User
from tests.admin.helpers import form_errors
from tests.conftest import COUNTERPART_ONE, COUNTERPART_TWO, ENTITY_ONE, SUPPORT, SUPPORT_LEAD

pytestmark = pytest.mark.django_db

UNKNOWN_ENTITY = "3a9c5e1e-0000-4000-8000-0000000000ff"

# What the groups must grant, written out here rather than read from the migration.
SUPPORT_PERMISSIONS = {
    "metadata.view_metadata",
    "metadata.view_metadatachange",
    "metadata.view_account",
    "metadata.view_property",
    "metadata.view_user",
    "metadata.view_entity",
    "metadata.view_counterpart",
    "metadata.view_payable",
}
SUPPORT_LEAD_PERMISSIONS = SUPPORT_PERMISSIONS | {
    "metadata.can_mutate_metadata",
    "metadata.add_metadata",
    "metadata.change_metadata",
    "metadata.delete_metadata",
}


def create_client(*args: str) -> dict[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_partner_client", *args, stdout=out, stderr=err)
    assert "not shown again" in err.getvalue()
    return dict(line.split("=", 1) for line in out.getvalue().splitlines())


def token(client_id: str, secret: str) -> str:
    response = Client().post(
        "/v1/auth/token",
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def put(token: str, path: str, document: dict) -> int:
    return (
        Client()
        .put(
            path,
            json.dumps({"metadata": document}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        .status_code
    )


# create_partner_client ---------------------------------------------------------------------


def test_a_partner_client_prints_its_id_and_secret_once_and_reaches_its_entity(
    demo: None,
) -> None:
    printed = create_client("--name", "Acme books", "--entity", ENTITY_ONE)
    assert set(printed) == {"CLIENT_ID", "CLIENT_SECRET"}
    assert len(printed["CLIENT_SECRET"]) >= 40
    client = PartnerClient.objects.get(pk=printed["CLIENT_ID"])
    assert (client.name, client.kind) == ("Acme books", ClientKind.PARTNER)
    assert printed["CLIENT_SECRET"] not in client.secret_hash
    assert client.check_secret(printed["CLIENT_SECRET"])
    assert not client.user.has_usable_password()
    assert not client.user.get_all_permissions()
    assert not client.user.is_staff
    assert [str(pk) for pk in client.entities.values_list("pk", flat=True)] == [ENTITY_ONE]
    assert not client.user.entities.exists()  # the client serves it; its user is no member

    access = token(printed["CLIENT_ID"], printed["CLIENT_SECRET"])
    assert put(access, f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata", {"a": 1}) == 200
    assert put(access, f"/v1/counterparts/{COUNTERPART_TWO}/partner_metadata", {"a": 1}) == 404
    assert Metadata.objects.count() == 1


def test_two_clients_get_different_secrets(demo: None) -> None:
    first = create_client("--name", "A", "--entity", ENTITY_ONE)
    second = create_client("--name", "B", "--entity", ENTITY_ONE)
    assert first["CLIENT_SECRET"] != second["CLIENT_SECRET"]
    assert first["CLIENT_ID"] != second["CLIENT_ID"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--entity", UNKNOWN_ENTITY), UNKNOWN_ENTITY),
        (("--entity", ENTITY_ONE, "--entity", UNKNOWN_ENTITY), UNKNOWN_ENTITY),
        (("--entity", "not-a-uuid"), "not-a-uuid"),
        ((), "at least one entity"),
        (("--provisioning", "--entity", ENTITY_ONE), "serves no entities"),
    ],
)
def test_a_bad_request_is_a_clear_error_and_creates_nothing(
    demo: None, args: tuple[str, ...], message: str
) -> None:
    clients, users = PartnerClient.objects.count(), User.objects.count()
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("create_partner_client", "--name", "X", *args, stdout=io.StringIO())
    assert (PartnerClient.objects.count(), User.objects.count()) == (clients, users)
    assert not Entity.objects.get(pk=ENTITY_ONE).users.filter(email__endswith=".invalid")


def test_a_blank_name_is_refused(demo: None) -> None:
    with pytest.raises(CommandError, match="needs a name"):
        call_command("create_partner_client", "--name", " ", "--entity", ENTITY_ONE)


def test_a_provisioning_client_is_marked_and_reaches_no_metadata(demo: None) -> None:
    printed = create_client("--name", "Billing system", "--provisioning")
    client = PartnerClient.objects.get(pk=printed["CLIENT_ID"])
    assert client.kind == ClientKind.PROVISIONING and client.is_provisioning
    access = token(printed["CLIENT_ID"], printed["CLIENT_SECRET"])
    assert put(access, f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata", {"a": 1}) == 404
    assert put(access, f"/v1/entities/{ENTITY_ONE}/partner_metadata", {"a": 1}) == 404


# The support groups ---------------------------------------------------------------------------


def test_the_migration_makes_the_support_groups_with_their_permissions() -> None:
    """The data migration's own function, run on this (flushed) database as `migrate` runs it
    on an empty one."""
    migration = importlib.import_module("metadata.migrations.0008_support_groups")
    Group.objects.filter(name__in=migration.GROUPS).delete()
    state = MigrationLoader(connection).project_state(("metadata", "0008_support_groups"))
    migration.create_groups(state.apps, SimpleNamespace(connection=connection))

    def granted(name: str) -> set[str]:
        group = Group.objects.get(name=name)
        return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}

    assert granted("Support") == SUPPORT_PERMISSIONS
    assert granted("Support lead") == SUPPORT_LEAD_PERMISSIONS


def test_the_demo_support_staff_are_members_of_those_groups(demo: None) -> None:
    assert User.objects.get(email=SUPPORT).get_all_permissions() == SUPPORT_PERMISSIONS
    assert User.objects.get(email=SUPPORT_LEAD).get_all_permissions() == SUPPORT_LEAD_PERMISSIONS
    assert set(Group.objects.values_list("name", flat=True)) >= {"Support", "Support lead"}


def staff_in(group: str) -> Client:
    user = User.objects.create_user(email=f"new.{group.replace(' ', '.')}@example.com")
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def row(demo: None, put_as_partner: Callable[[], Metadata]) -> Metadata:
    return put_as_partner()


@pytest.fixture
def put_as_partner(demo: None) -> Callable[[], Metadata]:
    from tests.admin.conftest import target

    def write() -> Metadata:
        from metadata import services
        from metadata.models import Door

        services.set_key(
            target=target("COUNTERPART", COUNTERPART_ONE),
            key="external_id",
            value="id_1",
            context=services.WriteContext(actor_id=None, door=Door.REST),
        )
        return Metadata.objects.get(key="external_id")

    return write


def test_a_new_member_of_support_views_metadata_and_changes_nothing(row: Metadata) -> None:
    support = staff_in("Support")
    page = support.get(f"/admin/metadata/metadata/{row.pk}/change/")
    assert page.status_code == 200
    assert "id_1" in page.content.decode() and 'name="_save"' not in page.content.decode()
    assert support.get(f"/admin/metadata/counterpart/{COUNTERPART_ONE}/change/").status_code == 200
    refused = support.post(
        f"/admin/metadata/metadata/{row.pk}/change/", {"value": '"x"', "_save": "Save"}
    )
    assert refused.status_code == 403
    row.refresh_from_db()
    assert row.value == "id_1"


def test_a_new_member_of_support_lead_changes_metadata(row: Metadata) -> None:
    lead = staff_in("Support lead")
    response = lead.post(
        f"/admin/metadata/metadata/{row.pk}/change/", {"value": '"id_2"', "_save": "Save"}
    )
    assert response.status_code == 302, form_errors(response)
    row.refresh_from_db()
    assert row.value == "id_2"


# createsuperuser ---------------------------------------------------------------------------


def test_createsuperuser_works_with_email_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "ops@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-operator-password")
    call_command("createsuperuser", "--noinput", stdout=io.StringIO())
    user = User.objects.get(email="ops@example.com")
    assert user.is_superuser and user.is_staff and user.is_active
    assert user.check_password("a-long-operator-password")
    admin = Client()
    assert admin.login(email="ops@example.com", password="a-long-operator-password")
    assert admin.get("/admin/metadata/partnerclient/").status_code == 200
