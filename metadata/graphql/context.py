"""What every resolver needs from the request: the caller, the target, the write context.

Authentication is per field, not per request (stack note 3): `obtainKrakenToken` needs no
token, and a missing token fails only the fields that need one, each with Kraken's code.
It uses the same core function as the REST door, `metadata.tokens.principal_from_header`.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from graphql import GraphQLResolveInfo

from metadata import rules, selectors, services, tokens
from metadata.graphql.scalars import JSONText
from metadata.graphql.types import linkable_of
from metadata.linkables import Target
from metadata.middleware import request_id_of
from metadata.models import Door
from metadata.permissions import Action
from metadata.principals import Principal

_PRINCIPAL_ATTR = "metadata_graphql_principal"


def request_of(info: GraphQLResolveInfo) -> HttpRequest:
    return info.context


def principal_of(info: GraphQLResolveInfo) -> Principal:
    """The caller, from the Authorization header; raises the core's authentication errors.

    Kept on the request once verified, so several fields of one request share one principal
    (and the user state its first target query loaded).
    """
    request = request_of(info)
    principal = getattr(request, _PRINCIPAL_ATTR, None)
    if principal is None:
        principal = tokens.principal_from_header(request.headers.get("Authorization"))
        setattr(request, _PRINCIPAL_ATTR, principal)
    return principal


def open_target(
    info: GraphQLResolveInfo, linked_object_type: Any, identifier: str, action: Action
) -> Target:
    """Authenticate, then let the core resolve and authorise the object, in the contract's order."""
    return selectors.open_target(
        principal=principal_of(info),
        linkable=linkable_of(linked_object_type),
        identifier=identifier,
        action=action,
    )


def write_context(info: GraphQLResolveInfo) -> services.WriteContext:
    request = request_of(info)
    return services.WriteContext(
        actor_id=principal_of(info).user_id,
        door=Door.GRAPHQL,
        request_id=request_id_of(request),
    )


def parse_value(value: JSONText) -> Any:
    """The client's JSON text as a value; `NotJSON` (KT-CT-8411) when it is not strict JSON."""
    return rules.parse_json(value.text, message=rules.MSG_VALUE_NOT_JSON)
