"""WSGI entry point (gunicorn metadata_gateway.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "metadata_gateway.settings")
application = get_wsgi_application()
