"""The metadata app without its `ready` wiring, for `test_layers`' import probe."""

from __future__ import annotations

from django.apps import AppConfig

PROTOCOL_APPS = frozenset(
    {
        "rest_framework",
        "drf_spectacular",
        "drf_spectacular_sidecar",
        "graphene_django",
        "graphene_django_graphiql_static",
    }
)


class BareMetadataConfig(AppConfig):
    """The metadata app's models, without the signals and checks `ready` connects."""

    name = "metadata"
    label = "metadata"
    verbose_name = "Metadata"
    default_auto_field = "django.db.models.BigAutoField"


# The probe's replacements for the application's app configs.
BARE = {
    "metadata": "tests.core.bare_app.BareMetadataConfig",
    "django.contrib.admin": "django.contrib.admin.apps.SimpleAdminConfig",
}
