"""The hot statements of `metadata.sql`: the tables they name are the models', and on
PostgreSQL each finds its rows by index, whatever the size of the tables."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from metadata.linkables import all_linkables, by_name
from metadata.models import (
    APIKey,
    Counterpart,
    Entity,
    Metadata,
    MetadataChange,
    PartnerClient,
    User,
    WebhookEvent,
)
from metadata.sql import batches, reads, writes
from tests.conftest import COUNTERPART_ONE, PARTNER

COUNTERPART = by_name("COUNTERPART")
ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="EXPLAIN plans are PostgreSQL's"
)


def test_the_tables_named_in_the_statements_are_the_models_tables() -> None:
    text = " ".join(
        [
            reads.USER_CALLER,
            reads.API_KEY_CALLER,
            reads.REACH_SERVED,
            writes.DOCUMENT,
            writes.STORE_POSTGRESQL,
            batches.DOCUMENTS["postgresql"],
            batches.DOCUMENTS["sqlite"],
        ]
    )
    tables = [
        Metadata._meta.db_table,
        MetadataChange._meta.db_table,
        WebhookEvent._meta.db_table,
        User._meta.db_table,
        User.user_permissions.through._meta.db_table,
        User.groups.through._meta.db_table,
        Group.permissions.through._meta.db_table,
        Permission._meta.db_table,
        ContentType._meta.db_table,
        PartnerClient._meta.db_table,
        PartnerClient.entities.through._meta.db_table,
        APIKey._meta.db_table,
    ]
    for table in tables:
        assert re.search(rf"\b{table}\b", text), table
    assert PartnerClient._meta.pk.column == "client_id"


def test_every_linkable_has_a_read_and_a_batch_statement_on_both_databases() -> None:
    for linkable in all_linkables():
        for vendor in ("postgresql", "sqlite"):
            for caller in ("user", "client", "api_key"):
                text = reads.read_sql(linkable.name, vendor, caller, True)
                assert linkable.model._meta.db_table in text
                text = batches.targets_sql(linkable.name, vendor, caller, True, True)
                assert linkable.model._meta.db_table in text


@pytest.fixture
def many_rows(demo: None) -> Iterator[None]:
    """Enough objects and rows that a scan would cost more than an index, then ANALYZE."""
    entity = Entity.objects.create(name="Bulk")
    counterparts = Counterpart.objects.bulk_create(
        Counterpart(entity=entity, name=f"c{i}") for i in range(3000)
    )
    content_type = ContentType.objects.get_for_model(Counterpart)
    Metadata.objects.bulk_create(
        Metadata(content_type=content_type, object_id=str(c.pk), key=f"k{j}", value=j)
        for c in counterparts
        for j in range(3)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    yield


def _plan(statement: str, params: dict[str, Any]) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {statement}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _assert_no_scan_of_big_tables(plan: str) -> None:
    for table in ("metadata_metadata", "metadata_counterpart", "metadata_metadatachange"):
        assert f"Seq Scan on {table}" not in plan, plan


def _read_params(caller: reads.Caller) -> dict[str, Any]:
    return {
        "user": caller.user_id,
        "client": caller.client_id,
        "api_key": caller.api_key_id,
        "key": uuid.UUID(COUNTERPART_ONE),
        "type": ContentType.objects.get_for_model(Counterpart).pk,
    }


@ON_POSTGRESQL
@pytest.mark.usefixtures("many_rows")
@pytest.mark.parametrize("caller", ["user", "client", "api_key"])
def test_the_read_finds_the_object_and_its_rows_by_index(caller: str) -> None:
    user = User.objects.get(email=PARTNER)
    statement = reads.read_sql(COUNTERPART.name, "postgresql", caller, True)
    plan = _plan(statement, _read_params(reads.Caller(user.pk, uuid.uuid4(), uuid.uuid4())))
    _assert_no_scan_of_big_tables(plan)
    assert "metadata_unique_object_key" in plan, plan
    assert "metadata_counterpart_pkey" in plan, plan


@ON_POSTGRESQL
@pytest.mark.usefixtures("many_rows")
def test_the_lock_and_the_document_under_it_go_by_index() -> None:
    lock = writes.LOCK["postgresql"].format(table="metadata_counterpart", pk="id")
    plan = _plan(lock, {"pk": uuid.UUID(COUNTERPART_ONE)})
    _assert_no_scan_of_big_tables(plan)
    assert "metadata_counterpart_pkey" in plan, plan
    content_type = ContentType.objects.get_for_model(Counterpart).pk
    plan = _plan(writes.DOCUMENT, {"type": content_type, "object": COUNTERPART_ONE})
    assert "metadata_unique_object_key" in plan, plan


@ON_POSTGRESQL
@pytest.mark.usefixtures("many_rows")
def test_a_batch_reads_its_documents_by_index() -> None:
    content_type = ContentType.objects.get_for_model(Counterpart).pk
    objects = [[content_type, str(pk)] for pk in Counterpart.objects.values_list("pk")[:100]]
    plan = _plan(batches.DOCUMENTS["postgresql"], {"objects": json.dumps(objects)})
    _assert_no_scan_of_big_tables(plan)
    assert "metadata_unique_object_key" in plan, plan


@ON_POSTGRESQL
@pytest.mark.usefixtures("many_rows")
@pytest.mark.parametrize("caller", ["user", "client", "api_key"])
@pytest.mark.parametrize("only_reached", [False, True])
def test_a_batch_finds_and_locks_its_objects_by_index(caller: str, only_reached: bool) -> None:
    user = User.objects.get(email=PARTNER)
    statement = batches.targets_sql(COUNTERPART.name, "postgresql", caller, only_reached, True)
    assert statement.rstrip().endswith("FOR NO KEY UPDATE OF o")
    params = {
        **reads.caller_params(reads.Caller(user.pk, uuid.uuid4(), uuid.uuid4()), "postgresql"),
        # A tenth of a percent of the table, as 100 objects are of a million.
        "keys": list(Counterpart.objects.values_list("pk", flat=True)[:3]),
    }
    plan = _plan(statement, params)
    _assert_no_scan_of_big_tables(plan)
    assert "metadata_counterpart_pkey" in plan, plan


@pytest.mark.usefixtures("demo")
def test_a_batch_reads_each_document_whole_and_nothing_else() -> None:
    """Through the statement on this test's database: keys in order, values decoded (a JSON
    null too), other objects' rows left out, an object without rows absent."""
    counterparts = list(Counterpart.objects.all()[:2])
    content_type = ContentType.objects.get_for_model(Counterpart)
    rows = {"b": {"x": [1, 2.5]}, "a": None, "c": "text"}
    for key, value in rows.items():
        Metadata.objects.create(
            content_type=content_type, object_id=str(counterparts[0].pk), key=key, value=value
        )
    Metadata.objects.create(
        content_type=content_type, object_id=str(counterparts[1].pk), key="other", value=1
    )
    found = batches.documents(
        objects=[
            (content_type.pk, str(counterparts[0].pk)),
            (content_type.pk, str(uuid.uuid4())),
        ],
        alias="default",
    )
    assert found == {
        (content_type.pk, str(counterparts[0].pk)): {"a": None, "b": {"x": [1, 2.5]}, "c": "text"}
    }
    assert list(found[(content_type.pk, str(counterparts[0].pk))]) == ["a", "b", "c"]


@ON_POSTGRESQL
@pytest.mark.usefixtures("many_rows")
def test_the_store_deletes_and_upserts_by_index() -> None:
    change = {
        "type": ContentType.objects.get_for_model(Counterpart).pk,
        "object": COUNTERPART_ONE,
        "removed": ["k0"],
        "written": [["k1", "5"]],
        "audit": [],
        "event_id": str(uuid.uuid4()),
        "event": {"object_type": "x", "event_type": "updated"},
    }
    params = {
        "changes": json.dumps([change]),
        "actor": None,
        "door": "rest",
        "request": "",
        "at": timezone.now(),
    }
    plan = _plan(writes.STORE_POSTGRESQL, params)
    _assert_no_scan_of_big_tables(plan)
    assert "metadata_unique_object_key" in plan, plan
