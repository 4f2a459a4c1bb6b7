"""Every model support staff work with is in the admin, with list columns and search."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client

from metadata.admin.linked import LinkedObjectAdmin, MetadataInline
from metadata.linkables import all_linkables
from metadata.models import (
    Account,
    APIKey,
    Counterpart,
    Entity,
    Metadata,
    MetadataChange,
    PartnerClient,
    Payable,
    Property,
    User,
)
from tests.admin.helpers import metadata_inline
from tests.conftest import (
    COUNTERPART_ONE,
    ENTITY_ONE,
    PARTNER_CLIENT_ID,
    PARTNER_CLIENT_SECRET,
    PAYABLE_ONE,
    SOME_TEST,
)

pytestmark = pytest.mark.django_db

REGISTERED = (
    Account,
    Property,
    User,
    Entity,
    Counterpart,
    Payable,
    PartnerClient,
    APIKey,
    Metadata,
    MetadataChange,
)


@pytest.fixture
def superuser(demo: None) -> Client:
    user = User.objects.create_superuser("root@example.com", "root-password-123")
    client = Client()
    client.force_login(user)
    return client


def test_every_model_is_registered_with_list_columns_and_search() -> None:
    for model in REGISTERED:
        model_admin = admin.site._registry[model]
        assert model_admin.list_display != ("__str__",), model
        assert model_admin.search_fields, model


@pytest.mark.parametrize("linkable", list(all_linkables()), ids=lambda lk: lk.name)
def test_every_linkable_type_has_the_metadata_inline(linkable) -> None:
    model_admin = admin.site._registry[linkable.model]
    assert isinstance(model_admin, LinkedObjectAdmin)
    assert model_admin.metadata_inline is MetadataInline


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m.__name__)
def test_changelist_and_add_pages_open_for_a_superuser(superuser: Client, model) -> None:
    opts = model._meta
    base = f"/admin/{opts.app_label}/{opts.model_name}/"
    assert superuser.get(base).status_code == 200
    assert superuser.get(f"{base}?q=demo").status_code == 200
    if model is not MetadataChange:
        assert superuser.get(f"{base}add/").status_code == 200


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("account/1/change/", "A-154321"),
        ("property/1/change/", "1 Demo Street"),
        (f"entity/{ENTITY_ONE}/change/", "Entity One"),
        (f"counterpart/{COUNTERPART_ONE}/change/", "Acme Supplies"),
        (f"payable/{PAYABLE_ONE}/change/", "INV-0001"),
    ],
)
def test_object_pages_show_the_metadata_inline(superuser: Client, path: str, text: str) -> None:
    response = superuser.get(f"/admin/metadata/{path}")
    assert response.status_code == 200
    assert text in response.content.decode()
    metadata_inline(response)
    assert "Metadata history" in response.content.decode()


def test_user_admin_uses_the_email_login(superuser: Client) -> None:
    response = superuser.get("/admin/metadata/user/?q=some.test")
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [User.objects.get(email=SOME_TEST)]
    user = User.objects.get(email=SOME_TEST)
    page = superuser.get(f"/admin/metadata/user/{user.pk}/change/")
    assert page.status_code == 200
    metadata_inline(page)

    response = superuser.post(
        "/admin/metadata/user/add/",
        {
            "email": "new.agent@example.com",
            "full_name": "New Agent",
            "usable_password": "true",
            "password1": "a-long-password-1",
            "password2": "a-long-password-1",
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    created = User.objects.get(email="new.agent@example.com")
    assert created.check_password("a-long-password-1")


def test_partner_client_secret_hash_is_neither_shown_nor_editable(superuser: Client) -> None:
    client = PartnerClient.objects.get(pk=PARTNER_CLIENT_ID)
    page = superuser.get(f"/admin/metadata/partnerclient/{client.pk}/change/")
    html = page.content.decode()
    assert client.secret_hash.split("$")[-1] not in html
    assert 'name="secret_hash"' not in html

    response = superuser.post(
        f"/admin/metadata/partnerclient/{client.pk}/change/",
        {
            "name": "Renamed",
            "kind": "partner",
            "user": str(client.user_id),
            "secret_hash": "forged",
            "new_secret": "",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.name == "Renamed"
    assert client.check_secret(PARTNER_CLIENT_SECRET)


def test_partner_client_secret_can_be_replaced_and_only_its_hash_is_stored(
    superuser: Client,
) -> None:
    client = PartnerClient.objects.get(pk=PARTNER_CLIENT_ID)
    response = superuser.post(
        f"/admin/metadata/partnerclient/{client.pk}/change/",
        {
            "name": client.name,
            "kind": "partner",
            "user": str(client.user_id),
            "new_secret": "rotated-secret-1",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.check_secret("rotated-secret-1")
    assert "rotated-secret-1" not in client.secret_hash


def test_partner_client_kind_is_shown_and_editable(superuser: Client) -> None:
    client = PartnerClient.objects.get(pk=PARTNER_CLIENT_ID)
    listing = superuser.get("/admin/metadata/partnerclient/").content.decode()
    assert "Provisioning (objects from the system of record)" in listing  # the c9 client
    page = superuser.get(f"/admin/metadata/partnerclient/{client.pk}/change/").content.decode()
    assert 'name="kind"' in page
    response = superuser.post(
        f"/admin/metadata/partnerclient/{client.pk}/change/",
        {
            "name": client.name,
            "kind": "provisioning",
            "user": str(client.user_id),
            "new_secret": "",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.is_provisioning
