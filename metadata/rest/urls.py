"""REST routes under /v1/, generated from the linkable registry.

Two partner_metadata routes per registry entry (the object's document, and the lookup by
metadata), each served by one view class for every type; any other
`.../partner_metadata` path (an unknown collection, an identifier with a slash) is a JSON
404 rather than Django's HTML page.
"""

from __future__ import annotations

from django.urls import URLPattern, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)
from rest_framework.permissions import AllowAny

from metadata.consoles import console_page
from metadata.linkables import all_linkables
from metadata.rest import schema as _schema  # noqa: F401 - registers the schema extensions
from metadata.rest import webhooks
from metadata.rest.auth import TokenView
from metadata.rest.lookup import PartnerMetadataLookupView
from metadata.rest.partner_metadata import PartnerMetadataView
from metadata.rest.provisioning import ProvisioningView
from metadata.rest.routing import UnknownPathView


def partner_metadata_routes() -> list[URLPattern]:
    """Per registry entry: one object's document, and the lookup across the collection."""
    routes = []
    for linkable in all_linkables():
        routes += [
            path(
                f"{linkable.collection}/<str:identifier>/partner_metadata",
                PartnerMetadataView.as_view(linkable=linkable),
                name=f"{linkable.collection}-partner-metadata",
            ),
            path(
                f"{linkable.collection}/partner_metadata",
                PartnerMetadataLookupView.as_view(linkable=linkable),
                name=f"{linkable.collection}-partner-metadata-lookup",
            ),
        ]
    return routes


urlpatterns = [
    *partner_metadata_routes(),
    path("auth/token", TokenView.as_view(), name="auth-token"),
    path("provisioning/objects", ProvisioningView.as_view(), name="provisioning-objects"),
    path("webhook_subscriptions", webhooks.SubscriptionsView.as_view(), name="webhooks"),
    path(
        "webhook_subscriptions/<str:subscription_id>",
        webhooks.SubscriptionView.as_view(),
        name="webhook",
    ),
    path(
        "webhook_subscriptions/<str:subscription_id>/deliveries",
        webhooks.DeliveriesView.as_view(),
        name="webhook-deliveries",
    ),
    path(
        "webhook_subscriptions/<str:subscription_id>/rotate_secret",
        webhooks.RotateSecretView.as_view(),
        name="webhook-rotate-secret",
    ),
    path(
        "webhook_subscriptions/<str:subscription_id>/deliveries/<str:delivery_id>/redeliver",
        webhooks.RedeliverView.as_view(),
        name="webhook-redeliver",
    ),
    path(
        "schema/",
        SpectacularAPIView.as_view(authentication_classes=(), permission_classes=(AllowAny,)),
        name="rest-schema",
    ),
    path(
        "docs/",
        console_page(
            SpectacularSwaggerView.as_view(
                url_name="rest-schema", authentication_classes=(), permission_classes=(AllowAny,)
            )
        ),
        name="rest-docs",
    ),
    path(
        "redoc/",
        console_page(
            SpectacularRedocView.as_view(
                url_name="rest-schema",
                template_name="metadata/redoc.html",  # without drf-spectacular's web fonts
                authentication_classes=(),
                permission_classes=(AllowAny,),
            )
        ),
        name="rest-redoc",
    ),
    # Last: any other path under /v1/ is the door's JSON 404, whatever DEBUG says.
    re_path(r"^.*$", UnknownPathView.as_view(), name="unknown-path"),
]
