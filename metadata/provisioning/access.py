"""Who may provision: a provisioning client's own token, and nobody else (contract section 13)."""

from __future__ import annotations

from metadata.errors import PermissionDenied
from metadata.models import ClientKind, PartnerClient
from metadata.principals import Principal

MSG_NOT_PROVISIONING = (
    "Only a provisioning client's token (client_credentials of a client marked for "
    "provisioning) may provision objects."
)


def provisioning_client(principal: Principal) -> PartnerClient:
    """The provisioning client whose `client_credentials` token this is, or 403."""
    client = None
    if principal.client_id is not None:
        client = PartnerClient.objects.filter(
            pk=principal.client_id,
            kind=ClientKind.PROVISIONING,
            user_id=principal.user_id,
            user__is_active=True,
        ).first()
    if client is None:
        raise PermissionDenied(MSG_NOT_PROVISIONING)
    return client
