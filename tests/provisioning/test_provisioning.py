"""Provisioning (contract section 13): objects from the platform's system of record."""

from __future__ import annotations

import io
import json
import sys
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from metadata.models import (
    Account,
    Counterpart,
    Door,
    Entity,
    Metadata,
    MetadataChange,
    PartnerClient,
    Payable,
    Property,
    User,
    WebhookEvent,
)
from metadata.tokens import access_token_for
from tests.conftest import (
    COUNTERPART_ONE,
    ENTITY_ONE,
    PARTNER,
    PARTNER_CLIENT_ID,
    SOME_TEST,
    SUPPORT,
    SUPPORT_LEAD,
)
from tests.provisioning.conftest import NDJSON, ROUTE, ndjson

pytestmark = pytest.mark.django_db

ENTITY = "5e000000-0000-4000-8000-000000000001"
OTHER_ENTITY = "5e000000-0000-4000-8000-000000000002"
COUNTERPART = "5e000000-0000-4000-8000-000000000011"
PAYABLE = "5e000000-0000-4000-8000-000000000021"
ALICE = "alice@platform.example"
BOB = "bob@platform.example"

WORLD = (
    {"type": "ACCOUNT_USER", "id": ALICE, "is_active": True},
    {"type": "ACCOUNT_USER", "id": BOB},
    {"type": "ACCOUNT", "id": "A-900", "users": [ALICE]},
    {"type": "PROPERTY", "id": "900", "account": "A-900", "address": "9 Grid Road"},
    {"type": "ENTITY", "id": ENTITY, "name": "Platform Entity", "users": [ALICE, BOB]},
    {"type": "COUNTERPART", "id": COUNTERPART, "entity": ENTITY, "name": "Supplier"},
    {"type": "PAYABLE", "id": PAYABLE, "entity": ENTITY, "name": "INV-9"},
)


def summary(
    created: int = 0, updated: int = 0, retired: int = 0, unchanged: int = 0, failed: Any = ()
) -> dict[str, Any]:
    return {
        "created": created,
        "updated": updated,
        "retired": retired,
        "unchanged": unchanged,
        "failed": [{"line": line, "reason": reason} for line, reason in failed],
    }


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.content
    return response.json()


def put_metadata(email: str, path: str, document: dict) -> Any:
    token = str(access_token_for(User.objects.get(email=email)))
    return Client().put(
        path,
        json.dumps({"metadata": document}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


# Creating, updating, idempotence ------------------------------------------------------------


def test_a_world_of_every_type_is_created_then_unchanged(provision: Callable[..., Any]) -> None:
    assert ok(provision(*WORLD)) == summary(created=7)
    alice = User.objects.get(email=ALICE)
    assert not alice.has_usable_password() and alice.is_active
    assert not alice.get_all_permissions() and not alice.is_staff
    assert list(Account.objects.get(number="A-900").users.all()) == [alice]
    prop = Property.objects.get(pk=900)
    assert (prop.account.number, prop.address) == ("A-900", "9 Grid Road")
    entity = Entity.objects.get(pk=ENTITY)
    assert entity.name == "Platform Entity"
    assert set(entity.users.values_list("email", flat=True)) == {ALICE, BOB}
    assert Counterpart.objects.get(pk=COUNTERPART).entity_id == uuid.UUID(ENTITY)
    assert Payable.objects.get(pk=PAYABLE).document_id == "INV-9"

    assert ok(provision(*WORLD)) == summary(unchanged=7)


def test_updates_change_fields_and_lists_replace_memberships(
    provision: Callable[..., Any],
) -> None:
    ok(provision(*WORLD))
    result = ok(
        provision(
            {"type": "ENTITY", "id": ENTITY, "name": "Renamed", "users": [BOB]},
            {"type": "ACCOUNT", "id": "A-900", "users": []},
            {"type": "COUNTERPART", "id": COUNTERPART, "name": "Supplier"},
            {"type": "ACCOUNT_USER", "id": BOB, "is_active": False},
            {"type": "ENTITY", "id": OTHER_ENTITY, "name": "Second"},
            {"type": "PAYABLE", "id": PAYABLE, "entity": OTHER_ENTITY},
        )
    )
    assert result == summary(created=1, updated=4, unchanged=1)
    entity = Entity.objects.get(pk=ENTITY)
    assert entity.name == "Renamed"
    assert list(entity.users.values_list("email", flat=True)) == [BOB]
    assert not Account.objects.get(number="A-900").users.exists()
    assert not User.objects.get(email=BOB).is_active
    assert Payable.objects.get(pk=PAYABLE).entity_id == uuid.UUID(OTHER_ENTITY)


def test_a_provisioned_user_reaches_their_entity_and_a_removed_member_no_longer_does(
    provision: Callable[..., Any],
) -> None:
    ok(provision(*WORLD))
    path = f"/v1/counterparts/{COUNTERPART}/partner_metadata"
    assert put_metadata(BOB, path, {"a": 1}).status_code == 200
    ok(provision({"type": "ENTITY", "id": ENTITY, "users": [ALICE]}))
    assert put_metadata(BOB, path, {"a": 2}).status_code == 404
    assert put_metadata(ALICE, path, {"a": 3}).status_code == 200


@pytest.mark.parametrize("batch_size", [1, 2, 3, 1000])
def test_batches_of_any_size_give_the_same_result(
    demo: None, batch_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parents made earlier in the same batch (an account's integer key included) are found."""
    from metadata import provisioning

    monkeypatch.setattr(provisioning, "BATCH_SIZE", batch_size)
    lines = [
        *WORLD,
        {"type": "ACCOUNT", "id": "A-901"},
        {"type": "PROPERTY", "id": "901", "account": "A-901", "address": "1 Same Batch"},
        {"type": "ENTITY", "id": ENTITY, "name": "Twice in one import"},
        {"type": "COUNTERPART", "id": COUNTERPART, "entity": ENTITY, "name": "Supplier 2"},
    ]
    result = _import(lines)
    assert (result.created, result.updated, result.unchanged, result.failed) == (9, 2, 0, [])
    assert Property.objects.get(pk=901).account.number == "A-901"
    assert Entity.objects.get(pk=ENTITY).name == "Twice in one import"
    assert Counterpart.objects.get(pk=COUNTERPART).name == "Supplier 2"


def _import(lines: list[dict[str, Any]]) -> Any:
    from metadata import provisioning
    from metadata.services import WriteContext

    return provisioning.import_lines(
        [json.dumps(line) for line in lines],
        context=WriteContext(actor_id=None, door=Door.PROVISIONING),
        batch_size=provisioning.BATCH_SIZE,
    )


# Lines that fail alone ------------------------------------------------------------------------

BAD_LINES = [
    ("{not json", "the line is not JSON"),
    ("[1, 2]", "a line is a JSON object"),
    ({"type": "ACCOUNT_NUMBER", "id": "A-1"}, "type must be one of ACCOUNT, ACCOUNT_USER"),
    ({"id": ENTITY}, "type must be one of"),
    ({"type": "ENTITY", "name": "x"}, "id is missing"),
    ({"type": "ENTITY", "id": "not-a-uuid", "name": "x"}, "is not a ENTITY identifier (a uuid)"),
    ({"type": "PROPERTY", "id": "-1", "account": "A-154321", "address": "x"}, "(a integer)"),
    ({"type": "ACCOUNT_USER", "id": "not an email"}, "is not a valid ACCOUNT_USER id"),
    ({"type": "ACCOUNT", "id": "A" * 33}, "id is 33 characters; the limit is 32"),
    ({"type": "ENTITY", "id": ENTITY, "name": "x", "colour": "red"}, "not colour"),
    ({"type": "ENTITY", "id": ENTITY, "name": 5}, "name must be a string"),
    ({"type": "ENTITY", "id": ENTITY, "name": " "}, "name must not be empty"),
    ({"type": "ENTITY", "id": ENTITY, "name": "x" * 201}, "the limit is 200"),
    ({"type": "ENTITY", "id": ENTITY, "name": "a\u0000b"}, "NUL"),
    ({"type": "ENTITY", "id": ENTITY}, "a new ENTITY needs name"),
    ({"type": "COUNTERPART", "id": COUNTERPART, "name": "x"}, "a new COUNTERPART needs entity"),
    (
        {"type": "COUNTERPART", "id": COUNTERPART, "entity": OTHER_ENTITY, "name": "x"},
        f"unknown ENTITY {OTHER_ENTITY}: provision it first",
    ),
    (
        {"type": "PROPERTY", "id": "77", "account": "A-404", "address": "x"},
        "unknown ACCOUNT A-404",
    ),
    ({"type": "ENTITY", "id": ENTITY, "name": "x", "users": ["nobody@x.example"]}, "unknown"),
    ({"type": "ENTITY", "id": ENTITY, "name": "x", "users": "a@b.example"}, "must be a list"),
    ({"type": "ACCOUNT_USER", "id": "z@x.example", "is_active": "yes"}, "true or false"),
    ({"type": "ENTITY", "id": ENTITY, "retired": "yes"}, "retired must be true or false"),
    ({"type": "ENTITY", "id": ENTITY, "retired": True, "name": "x"}, "only type, id and retired"),
    ({"type": "ACCOUNT_USER", "id": SUPPORT, "is_active": False}, "an operator manages them"),
    ({"type": "ACCOUNT_USER", "id": SUPPORT_LEAD, "retired": True}, "an operator manages them"),
    ({"type": "ACCOUNT_USER", "id": PARTNER, "retired": True}, "an operator manages them"),
]


@pytest.mark.parametrize(("line", "reason"), BAD_LINES)
def test_a_bad_line_fails_alone_with_its_number_and_reason(
    provision: Callable[..., Any], line: Any, reason: str
) -> None:
    before = _state()
    result = ok(
        provision(
            {"type": "ACCOUNT_USER", "id": "first@platform.example"},
            line,
            {"type": "ACCOUNT_USER", "id": "third@platform.example"},
        )
    )
    assert result["created"] == 2
    assert [f["line"] for f in result["failed"]] == [2]
    assert reason in result["failed"][0]["reason"]
    new = {"first@platform.example", "third@platform.example"}
    after = _state()
    assert (after["users"], after["active"]) == (before["users"] | new, before["active"] | new)
    assert {k: v for k, v in after.items() if k not in ("users", "active")} == {
        k: v for k, v in before.items() if k not in ("users", "active")
    }


def _state() -> dict[str, Any]:
    return {
        "users": set(User.objects.values_list("email", flat=True)),
        "active": set(User.objects.filter(is_active=True).values_list("email", flat=True)),
        "entities": set(Entity.objects.values_list("pk", "name")),
        "counterparts": set(Counterpart.objects.values_list("pk", "name", "entity")),
        "accounts": set(Account.objects.values_list("number", flat=True)),
        "properties": set(Property.objects.values_list("pk", "address")),
        "members": set(Entity.users.through.objects.values_list("entity", "user")),
    }


def test_failed_lines_are_numbered_as_in_the_body_blank_lines_included(
    provision: Callable[..., Any],
) -> None:
    result = ok(provision("", {"type": "ENTITY", "id": "x"}, "", "   ", "{"))
    assert [f["line"] for f in result["failed"]] == [2, 5]


# Retirement -----------------------------------------------------------------------------------


def test_retiring_deletes_metadata_through_the_services_and_the_object_answers_missing(
    provision: Callable[..., Any],
) -> None:
    ok(provision(*WORLD))
    path = f"/v1/counterparts/{COUNTERPART}/partner_metadata"
    assert put_metadata(ALICE, path, {"external_id": "x1", "n": 2}).status_code == 200
    events = WebhookEvent.objects.count()

    result = ok(provision({"type": "COUNTERPART", "id": COUNTERPART, "retired": True}))
    assert result == summary(retired=1)
    assert not Counterpart.objects.filter(pk=COUNTERPART).exists()
    assert not Metadata.objects.filter(object_id=COUNTERPART).exists()
    deletes = MetadataChange.objects.filter(object_id=COUNTERPART, exists_after=False)
    assert sorted(deletes.values_list("key", "door")) == [
        ("external_id", Door.PROVISIONING),
        ("n", Door.PROVISIONING),
    ]
    assert {c.actor_id for c in deletes} == {
        PartnerClient.objects.get(pk="3a9c5e1e-0000-4000-8000-0000000000c9").user_id
    }
    assert WebhookEvent.objects.count() == events + 1
    event = WebhookEvent.objects.order_by("-created_at").first()
    assert (event.event_type, event.payload["object"]) == (
        "deleted",
        {"type": "COUNTERPART", "id": COUNTERPART},
    )
    assert put_metadata(ALICE, path, {"a": 1}).status_code == 404
    # Retiring again, or an object never seen, changes nothing.
    assert ok(provision({"type": "COUNTERPART", "id": COUNTERPART, "retired": True})) == summary(
        unchanged=1
    )
    # Provisioned again, it is a new object with no metadata.
    assert ok(provision(WORLD[5])) == summary(created=1)
    assert Client().get(path, HTTP_AUTHORIZATION=f"Bearer {_token(ALICE)}").json() == {
        "metadata": {}
    }


def _token(email: str) -> str:
    return str(access_token_for(User.objects.get(email=email)))


def test_retiring_an_entity_retires_what_hangs_on_it_through_the_services(
    provision: Callable[..., Any],
) -> None:
    ok(provision(*WORLD))
    put_metadata(ALICE, f"/v1/counterparts/{COUNTERPART}/partner_metadata", {"k": 1})
    put_metadata(ALICE, f"/v1/entities/{ENTITY}/partner_metadata", {"e": 1})
    assert ok(provision({"type": "ENTITY", "id": ENTITY, "retired": True})) == summary(retired=1)
    assert not Entity.objects.filter(pk=ENTITY).exists()
    assert not Counterpart.objects.filter(pk=COUNTERPART).exists()
    assert not Payable.objects.filter(pk=PAYABLE).exists()
    assert not Metadata.objects.filter(object_id__in=[ENTITY, COUNTERPART]).exists()
    audited = set(
        MetadataChange.objects.filter(door=Door.PROVISIONING).values_list("object_id", "key")
    )
    assert audited == {(COUNTERPART, "k"), (ENTITY, "e")}


def test_retiring_a_user_deletes_them_and_their_metadata(provision: Callable[..., Any]) -> None:
    ok(provision(*WORLD))
    path = f"/v1/account_users/{ALICE}/partner_metadata"
    assert put_metadata(ALICE, path, {"a": 1}).status_code == 200
    assert ok(provision({"type": "ACCOUNT_USER", "id": ALICE, "retired": True})) == summary(
        retired=1
    )
    assert not User.objects.filter(email=ALICE).exists()
    assert MetadataChange.objects.filter(door=Door.PROVISIONING, key="a").count() == 1


# Who may call the route, and its limits -------------------------------------------------------


def test_no_token_is_401(provision: Callable[..., Any]) -> None:
    response = provision(*WORLD, token=None)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "not_authenticated"
    assert not User.objects.filter(email=ALICE).exists()


@pytest.mark.parametrize("email", [SOME_TEST, PARTNER, SUPPORT_LEAD])
def test_a_persons_token_is_403(provision: Callable[..., Any], email: str) -> None:
    response = provision(*WORLD, token=_token(email))
    assert response.status_code == 403
    assert "provisioning client" in response.json()["error"]["message"]
    assert not User.objects.filter(email=ALICE).exists()


def test_a_partner_clients_token_is_403(provision: Callable[..., Any]) -> None:
    client = PartnerClient.objects.get(pk=PARTNER_CLIENT_ID)
    response = provision(*WORLD, token=str(access_token_for(client.user, client=client)))
    assert response.status_code == 403


def test_the_provisioning_user_token_without_its_client_is_403(
    provision: Callable[..., Any],
) -> None:
    """The client's user's own token (no client_id claim) is not the client's."""
    client = PartnerClient.objects.get(pk="3a9c5e1e-0000-4000-8000-0000000000c9")
    assert provision(*WORLD, token=str(access_token_for(client.user))).status_code == 403


def test_the_token_route_issues_the_provisioning_token(demo: None) -> None:
    response = Client().post(
        "/v1/auth/token",
        {
            "grant_type": "client_credentials",
            "client_id": "3a9c5e1e-0000-4000-8000-0000000000c9",
            "client_secret": "demo-provisioning-secret",
        },
        content_type="application/json",
    )
    token = response.json()["access_token"]
    answer = Client().post(
        ROUTE, ndjson(WORLD[0]), content_type=NDJSON, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert ok(answer) == summary(created=1)
    for path in (
        f"/v1/entities/{ENTITY_ONE}/partner_metadata",
        f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata",
        "/v1/accounts/A-154321/partner_metadata",
    ):
        got = Client().get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert got.status_code == 404, path


@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "application/x-www-form-urlencoded"]
)
def test_other_content_types_are_415(provisioning_token: str, content_type: str) -> None:
    response = Client().post(
        ROUTE,
        ndjson(*WORLD),
        content_type=content_type,
        HTTP_AUTHORIZATION=f"Bearer {provisioning_token}",
    )
    assert response.status_code == 415
    assert NDJSON in response.json()["error"]["message"]
    assert not User.objects.filter(email=ALICE).exists()


def test_ndjson_with_a_charset_is_accepted(provisioning_token: str) -> None:
    response = Client().post(
        ROUTE,
        ndjson(WORLD[0]),
        content_type=f"{NDJSON}; charset=utf-8",
        HTTP_AUTHORIZATION=f"Bearer {provisioning_token}",
    )
    assert ok(response) == summary(created=1)


def test_a_body_over_4_mib_is_413_and_4_mib_is_not(provisioning_token: str) -> None:
    line = json.dumps({"type": "ACCOUNT_USER", "id": "big@platform.example"})
    limit = 4 * 1024 * 1024
    exact = (line + " " * (limit - len(line) - 1) + "\n").encode()
    assert len(exact) == limit
    auth = {"HTTP_AUTHORIZATION": f"Bearer {provisioning_token}"}
    assert ok(Client().post(ROUTE, exact, content_type=NDJSON, **auth)) == summary(created=1)
    response = Client().post(ROUTE, exact + b" ", content_type=NDJSON, **auth)
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "payload_too_large"


def test_more_than_10000_lines_is_422_and_10000_is_not(provisioning_token: str) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {provisioning_token}"}
    line = json.dumps({"type": "ENTITY", "id": "x"})  # fails fast: no database work
    response = Client().post(ROUTE, (line + "\n") * 10_001, content_type=NDJSON, **auth)
    assert response.status_code == 422
    assert "10001 lines" in response.json()["error"]["message"]
    result = ok(Client().post(ROUTE, (line + "\n") * 10_000, content_type=NDJSON, **auth))
    assert len(result["failed"]) == 10_000


def test_an_empty_body_is_422(provisioning_token: str) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {provisioning_token}"}
    response = Client().post(ROUTE, "\n\n", content_type=NDJSON, **auth)
    assert response.status_code == 422


def test_other_methods_are_405(provisioning_token: str) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {provisioning_token}"}
    assert Client().get(ROUTE, **auth).status_code == 405


# The command ------------------------------------------------------------------------------------


def test_the_command_imports_a_file_and_prints_the_summary(demo: None, tmp_path: Any) -> None:
    path = tmp_path / "objects.ndjson"
    path.write_text(ndjson(*WORLD))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_objects", str(path), stdout=out, stderr=err)
    assert "created 7, updated 0, retired 0, unchanged 0, failed 0" in out.getvalue()
    assert Entity.objects.filter(pk=ENTITY).exists()


def test_the_command_exits_1_and_names_failed_lines(demo: None, tmp_path: Any) -> None:
    path = tmp_path / "objects.ndjson"
    path.write_text(ndjson(WORLD[0], {"type": "COUNTERPART", "id": COUNTERPART, "name": "x"}))
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import_objects", str(path), "--no-progress", stdout=out)
    assert exit_.value.code == 1
    assert "line 2: a new COUNTERPART needs entity" in out.getvalue()
    assert User.objects.filter(email=ALICE).exists()


def test_the_command_reads_standard_input_and_prints_json(
    demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(ndjson(*WORLD[:2]).encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    out = io.StringIO()
    call_command("import_objects", "-", "--json", "--no-progress", stdout=out)
    assert json.loads(out.getvalue()) == summary(created=2)


def test_the_command_refuses_a_missing_file(demo: None) -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_objects", "/nonexistent/objects.ndjson")


# The database refusing a batch, and keys the platform chose ----------------------------------


def test_a_line_the_database_refuses_fails_alone_and_the_batch_is_applied_line_by_line(
    provision: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch whose bulk write fails is applied again with a savepoint per line."""
    from django.db import IntegrityError
    from django.db.models import QuerySet

    original = QuerySet.bulk_create

    def refusing(self: QuerySet, objs: Any, *args: Any, **kwargs: Any) -> Any:
        objs = list(objs)
        if any(getattr(obj, "name", "") == "refused by the database" for obj in objs):
            raise IntegrityError("simulated: a concurrent import took this key")
        return original(self, objs, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "bulk_create", refusing)
    poison = {"type": "COUNTERPART", "id": COUNTERPART, "entity": ENTITY}
    result = ok(
        provision(
            {"type": "ENTITY", "id": ENTITY, "name": "Platform Entity"},
            {**poison, "name": "refused by the database"},
            {**WORLD[5], "id": str(uuid.UUID(int=7))},
            WORLD[6],
        )
    )
    assert result["created"] == 3, json.dumps(result)
    assert result["failed"] == [
        {
            "line": 2,
            "reason": "the database refused the change (a conflicting change?); "
            "send the line again",
        }
    ]
    assert "simulated" not in json.dumps(result)
    assert not Counterpart.objects.filter(pk=COUNTERPART).exists()
    assert Counterpart.objects.filter(pk=uuid.UUID(int=7)).exists()
    assert Payable.objects.filter(pk=PAYABLE).exists()


def test_integer_keys_from_the_platform_do_not_collide_with_rows_added_later(
    provision: Callable[..., Any],
) -> None:
    next_free = Property.objects.order_by("-pk").first().pk + 1
    line = {"type": "PROPERTY", "id": str(next_free), "account": "A-154321", "address": "x"}
    assert ok(provision(line)) == summary(created=1)
    added = Property.objects.create(account=Account.objects.get(number="A-154321"), address="y")
    assert added.pk > next_free
