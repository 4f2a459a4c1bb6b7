"""The test suite's settings: the application's, in development mode unless DEBUG is set.

The application starts with DEBUG off unless told otherwise (and then needs its own keys);
the suite runs as a developer's `make run` does. It sets DEBUG in the environment rather
than here, so the servers and commands the tests start as subprocesses inherit it, and
tests that need DEBUG off say so explicitly.
"""

import os

os.environ.setdefault("DEBUG", "true")

from metadata_gateway.settings import *  # noqa: F403 - the application's settings
