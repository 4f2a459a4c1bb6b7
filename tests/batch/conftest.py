"""Fixtures of the batch tests: many counterparts of Entity One, and callers' principals."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from metadata.models import Counterpart, Entity
from metadata.principals import Principal
from metadata.tokens import principal_from_header
from tests.conftest import ENTITY_ONE
from tests.rest.conftest import _fresh_rate_limits, api_as

__all__ = ["_fresh_rate_limits", "api_as"]


@pytest.fixture
def counterparts(demo: None) -> list[str]:
    """100 counterparts of Entity One, by identifier, in creation order (not pk order)."""
    entity = Entity.objects.get(pk=ENTITY_ONE)
    created = Counterpart.objects.bulk_create(
        [Counterpart(entity=entity, name=f"Batch {index:03d}") for index in range(100)]
    )
    return [str(counterpart.pk) for counterpart in created]


@pytest.fixture
def principal_of(token_for: Callable[[str], str]) -> Callable[[str], Principal]:
    """A fresh principal (flags not loaded yet), as a door builds it from a token."""
    return lambda who: principal_from_header(token_for(who))
