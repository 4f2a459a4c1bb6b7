"""Settings of `make bench`'s server: the application's, plus the floors' routes.

Only `bench.run` (and the tools beside it) start a server with these; the application's own
settings and URLconf never route the floors, which read and write any object for any valid
token.
"""

from metadata_gateway.settings import *  # noqa: F403 - the application's settings, unchanged

ROOT_URLCONF = "bench.urls"
