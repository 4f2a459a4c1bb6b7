"""How the admin writes: through `metadata.services`, checked by `metadata_permission`.

The admin never saves a `Metadata` row itself. Every change is a service call with a
`WriteContext` naming the staff user, the admin door and the request id, so the audit trail
records it like a write from any other door.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import Http404, HttpRequest

from metadata.admin.access import principal_of
from metadata.admin.values import violation_messages
from metadata.errors import GatewayError, NotFound, PermissionDenied, RuleViolation
from metadata.linkables import Linkable, Target, for_model
from metadata.middleware import request_id_of
from metadata.models import Door, Metadata, WriteContext
from metadata.permissions import Action, metadata_permission
from metadata.selectors import target_for_object

FAILED_ATTRIBUTE = "_metadata_admin_write_failed"


def write_context(request: HttpRequest) -> WriteContext:
    return WriteContext(
        actor_id=request.user.pk, door=Door.ADMIN, request_id=request_id_of(request)
    )


def target_of_object(request: HttpRequest, obj: models.Model, action: Action) -> Target:
    """The permission's view of a linked object the admin holds, checked for `action`."""
    linkable = for_model(type(obj))
    if linkable is None:
        raise Http404("Metadata cannot be linked to this object.")
    principal = principal_of(request)
    target = target_for_object(obj=obj, linkable=linkable, principal=principal)
    try:
        return metadata_permission.check(principal, target, action)
    except NotFound as error:
        raise Http404(error.message) from error
    except PermissionDenied as error:
        raise DjangoPermissionDenied(error.message) from error


def linked_object_of(row: Metadata, linkable: Linkable | None) -> models.Model | None:
    if linkable is None:
        return None
    pk_field = linkable.model._meta.pk
    try:
        pk = pk_field.to_python(row.object_id)
    except ValidationError:  # a malformed stored id names no object
        return None
    return linkable.model._default_manager.filter(pk=pk).first()


def run_write(request: HttpRequest, write: Callable[[], Any]) -> bool:
    """Run service calls as one unit; a refused change changes nothing and is shown, not raised.

    The forms check the rules before saving; this catches what changed in between (another
    door writing the same object), so the page shows the reason instead of a server error.
    """
    try:
        with transaction.atomic():
            write()
    except RuleViolation as error:
        for message in violation_messages(error):
            messages.error(request, f"Nothing was saved: {message}")
    except NotFound as error:
        messages.error(request, f"Nothing was saved: {error.message}")
    except PermissionDenied as error:
        raise DjangoPermissionDenied(error.message) from error
    except GatewayError as error:
        messages.error(request, f"Nothing was saved: {error.message}")
    else:
        return True
    setattr(request, FAILED_ATTRIBUTE, True)
    return False


def write_failed(request: HttpRequest) -> bool:
    return bool(getattr(request, FAILED_ATTRIBUTE, False))
