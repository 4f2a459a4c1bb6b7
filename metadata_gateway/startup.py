"""Refusing to start: settings that must be fixed first, each named in one line.

The settings module raises `RefusedToStart`; `manage.py` and the gunicorn configuration turn
it into a one-line message and a non-zero exit, so an operator reads what to set instead of
a traceback. Raised anywhere else (a bare WSGI server), it is still Django's
`ImproperlyConfigured`, and the last line of the traceback says the same.
"""

from __future__ import annotations

import sys
from typing import NoReturn

from django.core.exceptions import ImproperlyConfigured


class RefusedToStart(ImproperlyConfigured):
    """A setting is missing or unsafe; the message names it and says what to do."""


def exit_with(error: RefusedToStart) -> NoReturn:
    sys.exit(f"Refusing to start: {error}")
