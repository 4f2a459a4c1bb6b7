"""Writes through the service layer: atomic, validated on the result, audited, never partial."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given

from metadata import rules, selectors, services
from metadata.errors import KeyExists, PreconditionFailed, RuleViolation
from metadata.linkables import Target, by_name
from metadata.models import Door, Metadata, MetadataChange, User, WebhookEvent
from metadata.permissions import Action
from metadata.tokens import principal_from_header
from tests.conftest import COUNTERPART_ONE, PARTNER
from tests.core.test_rules import json_values


@pytest.fixture
def target(token_for: Callable[[str], str]) -> Target:
    return selectors.open_target(
        principal=principal_from_header(token_for(PARTNER)),
        linkable=by_name("COUNTERPART"),
        identifier=COUNTERPART_ONE,
        action=Action.WRITE,
    )


@pytest.fixture
def context(demo: None) -> services.WriteContext:
    partner = User.objects.get(email=PARTNER)
    return services.WriteContext(actor_id=partner.pk, door=Door.REST, request_id="req-1")


def snapshot() -> tuple[list[Any], list[Any]]:
    return (
        list(Metadata.objects.values_list("object_id", "key", "value").order_by("key")),
        list(MetadataChange.objects.values_list("id", flat=True).order_by("id")),
    )


def test_replace_merge_set_and_delete(target: Target, context: services.WriteContext) -> None:
    assert services.replace_document(
        target=target, document={"b": 2, "a": [1]}, context=context
    ) == {"a": [1], "b": 2}
    assert services.merge_document(
        target=target, patch={"a": None, "c": {"d": None, "e": 1}}, context=context
    ) == {"b": 2, "c": {"e": 1}}
    assert services.set_key(target=target, key="n", value=None, context=context).value is None
    assert selectors.get_document(target=target) == {"b": 2, "c": {"e": 1}, "n": None}
    removed = services.delete_key(target=target, key="b", context=context)
    assert removed == services.Entry(key="b", value=2)
    assert services.delete_key(target=target, key="b", context=context) is None
    assert services.replace_document(target=target, document={}, context=context) == {}
    assert Metadata.objects.count() == 0


@pytest.mark.parametrize(
    "write",
    [
        lambda t, c: services.replace_document(target=t, document={"k": "x" * 2000}, context=c),
        lambda t, c: services.merge_document(target=t, patch={"big": "x" * 1990}, context=c),
        lambda t, c: services.set_key(target=t, key="big", value="x" * 1990, context=c),
        lambda t, c: services.set_key(target=t, key="k" * 101, value=1, context=c),
        lambda t, c: services.set_key(target=t, key="k", value=float("nan"), context=c),
        lambda t, c: services.replace_document(target=t, document=[1], context=c),
        lambda t, c: services.merge_document(target=t, patch="x", context=c),
    ],
)
def test_a_refused_write_changes_nothing(
    target: Target, context: services.WriteContext, write: Callable[..., Any]
) -> None:
    services.replace_document(target=target, document={"keep": "x" * 20}, context=context)
    before = snapshot()
    with pytest.raises(RuleViolation):
        write(target, context)
    assert snapshot() == before


def test_the_size_rule_counts_the_whole_document_after_the_change(
    target: Target, context: services.WriteContext
) -> None:
    services.replace_document(target=target, document={"a": "x" * 1000}, context=context)
    with pytest.raises(RuleViolation, match="metadata is 2005 bytes; the limit is 2000"):
        services.set_key(target=target, key="b", value="y" * 990, context=context)
    services.set_key(target=target, key="b", value="y" * 985, context=context)
    assert rules.document_size(selectors.get_document(target=target)) == 2000


def test_stale_if_match_writes_nothing(target: Target, context: services.WriteContext) -> None:
    services.replace_document(target=target, document={"a": 1}, context=context)
    etag = rules.document_etag({"a": 1})
    services.merge_document(target=target, patch={"a": 2}, context=context, if_match=[etag])
    before = snapshot()
    with pytest.raises(PreconditionFailed):
        services.replace_document(target=target, document={}, context=context, if_match=[etag])
    assert snapshot() == before
    services.replace_document(target=target, document={}, context=context, if_match=["*"])


def test_create_only_refuses_an_existing_key(
    target: Target, context: services.WriteContext
) -> None:
    services.set_key(target=target, key="a", value=1, context=context, create_only=True)
    with pytest.raises(KeyExists):
        services.set_key(target=target, key="a", value=2, context=context, create_only=True)
    assert selectors.get_value(target=target, key="a") == 1


def test_compare_and_set_by_digest(target: Target, context: services.WriteContext) -> None:
    services.set_key(target=target, key="a", value={"v": 1}, context=context)
    digest = rules.value_digest({"v": 1})
    services.set_key(target=target, key="a", value=2, context=context, expected_digest=digest)
    with pytest.raises(PreconditionFailed):
        services.set_key(target=target, key="a", value=3, context=context, expected_digest=digest)
    assert selectors.get_value(target=target, key="a") == 2


def test_every_change_is_audited_and_replays_to_the_document(
    target: Target, context: services.WriteContext
) -> None:
    services.replace_document(target=target, document={"a": 1, "b": True}, context=context)
    services.merge_document(target=target, patch={"a": 1.0, "b": None, "c": "x"}, context=context)
    services.set_key(target=target, key="c", value=None, context=context)
    services.delete_key(target=target, key="a", context=context)
    changes = list(MetadataChange.objects.order_by("id"))
    assert [(c.key, c.action) for c in changes] == [
        ("a", "created"),
        ("b", "created"),
        ("a", "updated"),
        ("b", "deleted"),
        ("c", "created"),
        ("c", "updated"),
        ("a", "deleted"),
    ]
    assert {(c.actor_id, c.door, c.request_id) for c in changes} == {
        (context.actor_id, "rest", "req-1")
    }
    replayed: dict[str, Any] = {}
    for change in changes:
        assert (change.key in replayed) == change.existed_before
        if change.existed_before:
            assert replayed[change.key] == change.old_value
        if change.exists_after:
            replayed[change.key] = change.new_value
        else:
            del replayed[change.key]
    assert replayed == selectors.get_document(target=target) == {"c": None}


def test_a_write_that_changes_nothing_records_nothing(
    target: Target, context: services.WriteContext
) -> None:
    services.replace_document(target=target, document={"a": 1, "b": [1]}, context=context)
    before = snapshot()
    services.replace_document(target=target, document={"b": [1], "a": 1}, context=context)
    services.merge_document(target=target, patch={"a": 1, "z": None}, context=context)
    services.set_key(target=target, key="a", value=1, context=context)
    assert services.delete_key(target=target, key="missing", context=context) is None
    assert snapshot() == before


def test_write_queries_do_not_grow_with_the_document(
    target: Target, context: services.WriteContext
) -> None:
    counts = []
    for size in (1, 40):
        services.replace_document(target=target, document={}, context=context)
        document = {f"k{i}": i for i in range(size)}
        services.replace_document(target=target, document=document, context=context)
        with CaptureQueriesContext(connection) as queries:
            services.replace_document(
                target=target, document={k: v + 1 for k, v in document.items()}, context=context
            )
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_deleting_an_object_deletes_its_metadata_but_keeps_its_history(
    target: Target, context: services.WriteContext
) -> None:
    from metadata.models import Counterpart

    services.replace_document(target=target, document={"a": 1, "b": 2}, context=context)
    other = Counterpart.objects.exclude(pk=target.pk).first()
    assert other is not None
    Counterpart.objects.filter(pk=target.pk).delete()
    assert Metadata.objects.count() == 0
    assert MetadataChange.objects.filter(object_id=target.object_id).count() == 2


@given(a=json_values(), b=json_values())
def test_a_key_is_rewritten_exactly_when_its_json_text_differs(a: object, b: object) -> None:
    """`services._same` decides which keys a write stores and audits: it must agree with
    the canonical JSON text (so `1`, `1.0`, `true` and `-0.0`/`0.0` count as changes)."""
    assert services._same(a, b) == (rules.canonical_json(a) == rules.canonical_json(b))
    assert services._same(a, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1, 1.0),
        (1, True),
        (0, False),
        (0.0, -0.0),
        ({"a": 1}, {"a": 1.0}),
        ([1], [True]),
        ("", None),
    ],
)
def test_values_equal_in_python_but_not_in_json_are_different(a: object, b: object) -> None:
    assert not services._same(a, b)


def test_an_update_keeps_a_rows_creation_and_records_who_changed_it_and_when(
    target: Target, context: services.WriteContext
) -> None:
    """The rows, audit entries and event one write stores agree (one statement on
    PostgreSQL, the ORM's elsewhere)."""
    services.replace_document(target=target, document={"a": 1, "b": 1}, context=context)
    created = Metadata.objects.get(key="a")
    support = User.objects.get(email="support.lead@example.com")
    later = services.WriteContext(actor_id=support.pk, door=Door.ADMIN, request_id="req-2")
    services.merge_document(target=target, patch={"a": 2, "b": None}, context=later)

    updated = Metadata.objects.get(key="a")
    assert (updated.pk, updated.created_at) == (created.pk, created.created_at)
    assert updated.updated_at > created.updated_at
    assert updated.updated_by_id == support.pk
    assert not Metadata.objects.filter(key="b").exists()
    changes = MetadataChange.objects.filter(request_id="req-2").order_by("id")
    assert [(c.key, c.old_value, c.new_value, c.action) for c in changes] == [
        ("a", 1, 2, "updated"),
        ("b", 1, None, "deleted"),
    ]
    assert {(c.actor_id, c.door) for c in changes} == {(support.pk, Door.ADMIN)}
    event = WebhookEvent.objects.get(payload__request_id="req-2")
    assert event.event_type == "updated"
    assert [change["key"] for change in event.payload["changes"]] == ["a", "b"]


def test_a_write_is_judged_by_the_entries_it_changes_and_the_size_of_the_result(
    target: Target, context: services.WriteContext
) -> None:
    """An entry stored before a rule existed (written here by hand) does not block writes of
    other keys, but it still counts towards the document's size."""
    old_key = " "  # a blank key: refused today
    Metadata.objects.create(
        content_type=selectors.content_type_for(target.linkable),
        object_id=target.object_id,
        key=old_key,
        value="old",
    )
    document = services.set_key(target=target, key="ok", value=1, context=context)
    assert document == services.Entry(key="ok", value=1)
    with pytest.raises(RuleViolation) as refused:
        services.set_key(target=target, key="bad\x00", value=1, context=context)
    assert [v.type for v in refused.value.violations] == ["value_error.key.control_character"]
    # {"big":"x…","ok":1} fits in the limit; with the old entry, {" ":"old",…}, it does not.
    filler = "x" * (rules.MAX_DOCUMENT_BYTES - 20)
    assert rules.document_size({"big": filler, "ok": 1}) <= rules.MAX_DOCUMENT_BYTES
    with pytest.raises(RuleViolation) as too_large:
        services.set_key(target=target, key="big", value=filler, context=context)
    assert [v.type for v in too_large.value.violations] == ["value_error.too_large"]
    assert set(selectors.get_document(target=target)) == {old_key, "ok"}
