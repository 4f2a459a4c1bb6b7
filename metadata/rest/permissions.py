"""The REST door's permission class: DRF's hooks over the core's one decision.

The decisions are `metadata.permissions.metadata_permission`'s, shared with the GraphQL door
and the admin; this class only reads what is REST's: the method (which says read or write)
and the `X-Monite-Entity-Id` header (contract section 3).
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from metadata.errors import NotAuthenticated, PermissionDenied
from metadata.permissions import Action, metadata_permission
from metadata.principals import Principal
from metadata.rest import headers


class MetadataPermission(BasePermission):
    """DRF's hooks, raising the core's errors (the door's exception handler formats them).

    The door's views resolve an object and check it in one step (`selectors.open_target`,
    the same `check`), so DRF's object hook is for a view that loads its object through
    DRF's `get_object`: it then decides as every other route does, not DRF's default (allow).
    """

    message = PermissionDenied.default_message

    def has_permission(self, request: Any, view: Any) -> bool:
        """Only that there is a caller: whether they are still active is decided with the
        object (`check`), in the query that resolves it, so listing this costs no query."""
        if not isinstance(request.user, Principal):
            raise NotAuthenticated()
        return True

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        action = Action.READ if request.method in SAFE_METHODS else Action.WRITE
        scope = headers.entity_scope(request)
        metadata_permission.check(request.user, obj, action, entity_scope=scope)
        return True
