"""The REST door's DRF permission class decides as the core's one permission does.

Its object hook reads what is REST's (the method, `X-Monite-Entity-Id`) and asks the core;
driven here through DRF's own `check_object_permissions` of a mounted view.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from metadata import selectors
from metadata.errors import NotAuthenticated, NotFound, PermissionDenied
from metadata.linkables import by_collection
from metadata.rest.partner_metadata import PartnerMetadataView
from metadata.tokens import principal_from_header
from tests.conftest import COUNTERPART_ONE, ENTITY_ONE, ENTITY_TWO, PARTNER, SUPPORT

PATH = f"/v1/counterparts/{COUNTERPART_ONE}/partner_metadata"
COUNTERPARTS = by_collection("counterparts")


def check(method: str, email: str | None, token_for: Callable[[str], str], **extra: str) -> None:
    """DRF's permission steps of a mounted view, for one request on counterpart one."""
    django_request = APIRequestFactory().generic(method, PATH, **extra)
    view = PartnerMetadataView(linkable=COUNTERPARTS)
    request = Request(django_request)
    if email is None:
        request.user = None
        view.check_permissions(request)
        return
    principal = principal_from_header(f"Bearer {token_for(email)}")
    request.user = principal
    view.check_permissions(request)
    target = selectors.find_target(
        linkable=COUNTERPARTS, identifier=COUNTERPART_ONE, principal=principal
    )
    view.check_object_permissions(request, target)


def test_a_caller_is_needed(token_for: Callable[[str], str]) -> None:
    with pytest.raises(NotAuthenticated):
        check("GET", None, token_for)


def test_a_reader_may_read_and_a_partner_may_write(token_for: Callable[[str], str]) -> None:
    check("GET", SUPPORT, token_for)
    check("PUT", PARTNER, token_for)
    check("PATCH", PARTNER, token_for, HTTP_X_MONITE_ENTITY_ID=ENTITY_ONE)


def test_a_read_only_caller_may_not_write(token_for: Callable[[str], str]) -> None:
    with pytest.raises(PermissionDenied):
        check("PUT", SUPPORT, token_for)


def test_the_entity_header_scopes_the_object(token_for: Callable[[str], str]) -> None:
    with pytest.raises(NotFound):
        check("GET", PARTNER, token_for, HTTP_X_MONITE_ENTITY_ID=ENTITY_TWO)
