from django.apps import AppConfig


class MetadataConfig(AppConfig):
    name = "metadata"
    verbose_name = "Metadata"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core.signals import request_started

        from metadata import (
            checks,  # noqa: F401 - registers the system checks
            consistency,
            signals,
        )

        signals.connect()
        request_started.connect(consistency.forget_caller, dispatch_uid="metadata-caller")
