"""`batches.merge_documents` and `batches.set_keys`: all or nothing, every refusal listed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metadata import batches, rules, selectors, services
from metadata.errors import (
    BatchRefused,
    InvalidBatch,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    RuleViolation,
)
from metadata.linkables import by_name
from metadata.models import Door, Metadata, MetadataChange, User, WebhookEvent
from metadata.principals import Principal
from tests.conftest import (
    COUNTERPART_ONE,
    COUNTERPART_TWO,
    PARTNER,
    PARTNER_CLIENT_TWO_ID,
    SUPPORT,
)

COUNTERPART = by_name("COUNTERPART")
ACCOUNT = by_name("ACCOUNT")
MISSING = "3a9c5e1e-0000-4000-8000-0000000000ff"


@pytest.fixture
def context(demo: None) -> services.WriteContext:
    partner = User.objects.get(email=PARTNER)
    return services.WriteContext(actor_id=partner.pk, door=Door.REST, request_id="req-batch")


def merge(identifier: str, patch: Any, if_match: list[str] | None = None) -> batches.MergeItem:
    return batches.MergeItem(COUNTERPART, identifier, patch, if_match)


def state() -> tuple[list[Any], int, int]:
    rows = list(
        Metadata.objects.order_by("object_id", "key").values_list("object_id", "key", "value")
    )
    return rows, MetadataChange.objects.count(), WebhookEvent.objects.count()


def test_a_batch_writes_every_object_with_one_audit_entry_per_key_and_one_event_each(
    counterparts: list[str],
    principal_of: Callable[[str], Principal],
    context: services.WriteContext,
) -> None:
    items = [merge(cp, {"external_id": f"x{i}", "n": i}) for i, cp in enumerate(counterparts)]
    written = batches.merge_documents(principal=principal_of(PARTNER), items=items, context=context)
    assert [w.target.identifier for w in written] == counterparts  # request order
    assert written[7].document == {"external_id": "x7", "n": 7}
    assert Metadata.objects.count() == 200
    assert MetadataChange.objects.filter(request_id="req-batch").count() == 200
    assert WebhookEvent.objects.count() == 100
    for identifier in counterparts[:3]:
        target = selectors.find_target(
            linkable=COUNTERPART, identifier=identifier, principal=principal_of(PARTNER)
        )
        assert target is not None
        assert selectors.get_document(target=target) == {
            "external_id": f"x{counterparts.index(identifier)}",
            "n": counterparts.index(identifier),
        }


def test_one_bad_item_among_100_leaves_all_100_unchanged(
    counterparts: list[str],
    principal_of: Callable[[str], Principal],
    context: services.WriteContext,
) -> None:
    batches.merge_documents(
        principal=principal_of(PARTNER),
        items=[merge(cp, {"before": True}) for cp in counterparts],
        context=context,
    )
    before = state()
    items = [merge(cp, {"after": i}) for i, cp in enumerate(counterparts)]
    items[57] = merge(counterparts[57], {"big": "x" * 3000})
    with pytest.raises(BatchRefused) as refused:
        batches.merge_documents(principal=principal_of(PARTNER), items=items, context=context)
    assert [r.index for r in refused.value.refusals] == [57]
    assert isinstance(refused.value.refusals[0].error, RuleViolation)
    assert state() == before


def test_every_refused_item_is_listed_with_its_cause(
    counterparts: list[str],
    principal_of: Callable[[str], Principal],
    context: services.WriteContext,
) -> None:
    items = [
        merge(counterparts[0], {"ok": 1}),
        merge(MISSING, {"a": 1}),  # missing
        merge("not-a-uuid", {"a": 1}),  # malformed: the same as missing
        merge(counterparts[1], {"k": "x" * 2500}),  # size rule on the document as it will be
        merge(counterparts[2], {"a": 1}, if_match=['"nope"']),  # precondition
        merge(counterparts[3], [1]),  # not an object
        merge(counterparts[0], {"again": 1}),  # the same object twice
    ]
    with pytest.raises(BatchRefused) as refused:
        batches.merge_documents(principal=principal_of(PARTNER), items=items, context=context)
    causes = {r.index: type(r.error) for r in refused.value.refusals}
    assert causes == {
        1: NotFound,
        2: NotFound,
        3: RuleViolation,
        4: PreconditionFailed,
        5: RuleViolation,
        6: RuleViolation,
    }
    assert Metadata.objects.count() == 0
    assert MetadataChange.objects.count() == 0


def test_readable_but_not_writable_is_refused_as_permission_denied(
    principal_of: Callable[[str], Principal], context: services.WriteContext
) -> None:
    with pytest.raises(BatchRefused) as refused:
        batches.merge_documents(
            principal=principal_of(SUPPORT),
            items=[merge(COUNTERPART_ONE, {"a": 1})],
            context=context,
        )
    assert isinstance(refused.value.refusals[0].error, PermissionDenied)


def test_a_client_cannot_touch_another_tenants_object_in_a_batch(
    principal_of: Callable[[str], Principal], context: services.WriteContext
) -> None:
    """Client c2 serves Entity Two only: Entity One's counterpart is refused as missing,
    and its own, valid, item is not written either."""
    c2 = principal_of(PARTNER_CLIENT_TWO_ID)
    with pytest.raises(BatchRefused) as refused:
        batches.merge_documents(
            principal=c2,
            items=[merge(COUNTERPART_TWO, {"mine": 1}), merge(COUNTERPART_ONE, {"theirs": 1})],
            context=context,
        )
    assert [(r.index, type(r.error)) for r in refused.value.refusals] == [(1, NotFound)]
    assert Metadata.objects.count() == 0


def test_the_entity_scope_covers_every_item(
    principal_of: Callable[[str], Principal], context: services.WriteContext
) -> None:
    from tests.conftest import ENTITY_TWO

    with pytest.raises(BatchRefused) as refused:
        batches.merge_documents(
            principal=principal_of(PARTNER),
            items=[merge(COUNTERPART_TWO, {"a": 1}), merge(COUNTERPART_ONE, {"a": 1})],
            context=context,
            entity_scope=ENTITY_TWO,
        )
    assert [(r.index, type(r.error)) for r in refused.value.refusals] == [(1, NotFound)]


def test_if_match_is_per_item(
    counterparts: list[str],
    principal_of: Callable[[str], Principal],
    context: services.WriteContext,
) -> None:
    batches.merge_documents(
        principal=principal_of(PARTNER), items=[merge(counterparts[0], {"a": 1})], context=context
    )
    etag = rules.document_etag({"a": 1})
    written = batches.merge_documents(
        principal=principal_of(PARTNER),
        items=[
            merge(counterparts[0], {"a": 2}, [etag]),
            merge(counterparts[1], {"b": 1}, [rules.document_etag({})]),
        ],
        context=context,
    )
    assert [w.document for w in written] == [{"a": 2}, {"b": 1}]


@pytest.mark.parametrize("count", [0, 101])
def test_batch_size_is_1_to_100(
    count: int, principal_of: Callable[[str], Principal], context: services.WriteContext
) -> None:
    with pytest.raises(InvalidBatch):
        batches.merge_documents(
            principal=principal_of(PARTNER),
            items=[merge(COUNTERPART_ONE, {"a": 1})] * count,
            context=context,
        )


def test_set_keys_mixes_types_and_applies_pairs_of_one_object_in_order(
    principal_of: Callable[[str], Principal], context: services.WriteContext
) -> None:
    items = [
        batches.SetItem(ACCOUNT, "A-154321", "a", 1),
        batches.SetItem(COUNTERPART, COUNTERPART_ONE, "c", None),
        batches.SetItem(ACCOUNT, "A-154321", "b", [2]),
    ]
    written = batches.set_keys(principal=principal_of(PARTNER), items=items, context=context)
    assert [w.document for w in written] == [{"a": 1, "b": [2]}, {"c": None}, {"a": 1, "b": [2]}]
    assert WebhookEvent.objects.count() == 2  # one event per object
    assert MetadataChange.objects.count() == 3


def test_the_same_document_twice_changes_nothing(
    counterparts: list[str],
    principal_of: Callable[[str], Principal],
    context: services.WriteContext,
) -> None:
    items = [merge(cp, {"a": 1}) for cp in counterparts[:5]]
    batches.merge_documents(principal=principal_of(PARTNER), items=items, context=context)
    before = state()
    batches.merge_documents(principal=principal_of(PARTNER), items=items, context=context)
    assert state() == before


def statements(
    principal_of: Callable[[str], Principal],
    context: services.WriteContext,
    identifiers: list[str],
    round_: int,
) -> int:
    principal = principal_of(PARTNER)
    items = [merge(cp, {"k": round_, "drop": None}) for cp in identifiers]
    with CaptureQueriesContext(connection) as queries:
        batches.merge_documents(principal=principal, items=items, context=context)
    return len(queries.captured_queries)


def test_a_batch_costs_a_fixed_number_of_statements_whatever_its_size(
    counterparts: list[str],
    principal_of: Callable[[str], Principal],
    context: services.WriteContext,
) -> None:
    """Flags, resolve-and-lock, read, store (plus the savepoint and its release, and on
    PostgreSQL the store's plan setting)."""
    statements(principal_of, context, counterparts, 0)  # warm caches (content types)
    one = statements(principal_of, context, counterparts[:1], 1)
    ten = statements(principal_of, context, counterparts[:10], 2)
    hundred = statements(principal_of, context, counterparts, 3)
    if connection.vendor == "postgresql":
        assert one == ten == hundred == 7, (one, ten, hundred)
    else:  # the store's steps are statements of their own
        assert one == ten == hundred, (one, ten, hundred)
