"""What every resolver needs from the request: the caller, the target, the write context.

Authentication is per field, not per request (stack note 3): `obtainKrakenToken` needs no
token, and a missing token fails only the fields that need one, each with Kraken's code.
It uses the same core function as the REST door, `metadata.tokens.principal_from_header`,
and the same rate limit (`metadata.ratelimit`): counted once per HTTP request and caller,
however many fields the request holds; once refused, every field of it answers THROTTLED.
The caller's budget after the count is kept for the answer's headers (`budget`).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from graphql import GraphQLResolveInfo

from metadata import ratelimit, rules, selectors, services, tokens
from metadata.addresses import client_address
from metadata.errors import Throttled
from metadata.graphql import budget
from metadata.graphql.scalars import JSONText
from metadata.graphql.types import linkable_of
from metadata.linkables import Target
from metadata.middleware import request_id_of
from metadata.models import Door
from metadata.permissions import Action
from metadata.principals import Principal
from metadata.rules import Document

USER_SCOPE = "user"
_PRINCIPAL_ATTR = "metadata_graphql_principal"
_RATE_ATTR = "metadata_graphql_rate_{scope}"


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
        request.user = principal  # as DRF does for REST: the request log names the caller
    throttle(info, USER_SCOPE, str(principal.user_id))
    return principal


def throttle_anonymous(info: GraphQLResolveInfo) -> None:
    """Token requests are counted per client address (they guard the password hasher); a
    request holds at most one login (`limits.OneLoginPerDocumentRule`), so this counts logins."""
    throttle(info, "anonymous", client_address(request_of(info).META))


def throttle(info: GraphQLResolveInfo, scope: str, caller: str) -> None:
    """Count this request once per scope; raise `Throttled` for each field once refused."""
    request = request_of(info)
    attr = _RATE_ATTR.format(scope=scope)
    retry_after = getattr(request, attr, None)
    if retry_after is None:
        decision = ratelimit.check(scope, caller)
        if scope == USER_SCOPE:  # the caller's budget, the one REST answers show too
            budget.remember(request, decision)
        retry_after = 0 if decision.allowed else decision.retry_after
        setattr(request, attr, retry_after)
    if retry_after:
        raise Throttled(retry_after)


def charge(info: GraphQLResolveInfo, cost: int) -> None:
    """Count `cost` more units of the caller's budget: a batch of N items costs N, and its
    request was counted as one. `Throttled` when that is past the budget."""
    if cost <= 0:
        return
    decision = ratelimit.check(USER_SCOPE, str(principal_of(info).user_id), cost=cost)
    budget.remember(request_of(info), decision)
    if not decision.allowed:
        raise Throttled(decision.retry_after)


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


def read_document(info: GraphQLResolveInfo, linked_object_type: Any, identifier: str) -> Document:
    """Authenticate, then let the core resolve, authorise and read the object in one query."""
    return selectors.read_document(
        principal=principal_of(info),
        linkable=linkable_of(linked_object_type),
        identifier=identifier,
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
