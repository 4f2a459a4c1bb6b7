"""The linkable registry and its start-up check."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.core.management import call_command

from metadata import checks, linkables


def test_the_registry_matches_contract_section_2() -> None:
    assert [(lk.name, lk.collection, lk.identifier_kind) for lk in linkables.all_linkables()] == [
        ("ACCOUNT", "accounts", "string"),
        ("ACCOUNT_USER", "account_users", "string"),
        ("PROPERTY", "properties", "integer"),
        ("ENTITY", "entities", "uuid"),
        ("COUNTERPART", "counterparts", "uuid"),
        ("PAYABLE", "payables", "uuid"),
    ]


def test_the_registry_is_frozen() -> None:
    with pytest.raises(TypeError):
        linkables.REGISTRY["X"] = linkables.by_name("ACCOUNT")  # type: ignore[index]
    with pytest.raises(AttributeError):
        linkables.by_name("ACCOUNT").collection = "x"  # type: ignore[misc]


def test_the_system_check_passes_on_the_real_registry() -> None:
    call_command("check", fail_level="ERROR")
    assert checks.check_linkable_registry() == []


def test_the_system_check_catches_a_broken_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    account = linkables.by_name("ACCOUNT")
    broken = {
        **linkables.REGISTRY,
        "BROKEN": replace(account, name="BROKEN", identifier_field="nope", reach="nowhere__id"),
    }
    monkeypatch.setattr(linkables, "REGISTRY", broken)
    ids = sorted(error.id for error in checks.check_linkable_registry())
    assert ids == ["metadata.E002", "metadata.E003", "metadata.E005"]


def test_a_text_identifier_needs_its_form_for_the_admin_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = linkables.by_name("ACCOUNT")
    formless = {**linkables.REGISTRY, "ACCOUNT": replace(account, identifier_pattern=None)}
    monkeypatch.setattr(linkables, "REGISTRY", formless)
    assert [error.id for error in checks.check_linkable_registry()] == ["metadata.E006"]


@pytest.mark.parametrize(
    ("text", "types"),
    [
        ("A-154321", {"ACCOUNT"}),
        ("a-154321", set()),
        ("A-", set()),
        ("some.test@email.com", {"ACCOUNT_USER"}),
        ("not an@email", set()),
        ("42", {"PROPERTY"}),
        ("0", set()),
        ("3a9c5e1e-0000-4000-8000-000000000011", {"ENTITY", "COUNTERPART", "PAYABLE"}),
        ("3a9c5e1e00004000800000000000001", set()),
        ("meter", set()),
        ("key:value", set()),
    ],
)
def test_each_type_recognises_the_form_of_its_identifiers(text: str, types: set[str]) -> None:
    assert {lk.name for lk in linkables.all_linkables() if lk.looks_like_identifier(text)} == types


def test_the_system_check_catches_a_broken_provisioning_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counterpart = linkables.by_name("COUNTERPART")
    spec = linkables.Provisioning(
        attributes=(linkables.Attribute("name", "no_such_field", str),),
        parent=linkables.Parent("entity", "entity", "ACCOUNT"),  # the FK is to Entity
        members="entity",  # not many-to-many
    )
    broken = {
        **linkables.REGISTRY,
        "COUNTERPART": replace(counterpart, provisioning=spec),
    }
    monkeypatch.setattr(linkables, "REGISTRY", broken)
    ids = sorted(error.id for error in checks.check_linkable_registry())
    assert ids == ["metadata.E007", "metadata.E008", "metadata.E009"]
