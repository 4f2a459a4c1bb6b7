from django.apps import AppConfig


class MetadataConfig(AppConfig):
    name = "metadata"
    verbose_name = "Metadata"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from metadata import (
            checks,  # noqa: F401 - registers the system checks
            principals,
            signals,
        )

        signals.connect()
        principals.watch_permissions()
