"""Settings for the metadata gateway, read from the environment.

Only the Python packages are needed for the defaults: SQLite in the project folder and a
process-local cache. A start that sets nothing is a production start (`DEBUG` off), and
refuses to run without its own SECRET_KEY and JWT_SIGNING_KEY; `make run` and the test suite
turn DEBUG on, which keeps the development keys. Production sets DATABASE_URL, REDIS_URL,
SECRET_KEY and JWT_SIGNING_KEY.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from metadata_gateway.startup import RefusedToStart

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def networks(name: str, default: str) -> list[str]:
    """A comma-separated list of CIDRs (or single addresses); a bad entry refuses to start."""
    entries = env_list(name, default)
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise RefusedToStart(
                f"{name}: {entry!r} is not an IP address or network (e.g. 10.0.0.0/8)."
            ) from None
    return entries


DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-change-me-in-production-0123456789abcdef"


def production_key(name: str) -> str:
    """A key that must be set, and not to the development key, when DEBUG is off."""
    value = os.environ.get(name, "").strip()
    if not value:
        raise RefusedToStart(f"Set {name}: DEBUG is off and {name} is not set.")
    if value == DEVELOPMENT_SECRET_KEY:
        raise RefusedToStart(f"Set {name}: DEBUG is off and {name} is the development key.")
    return value


# Off unless set: forgetting it must not publish debug pages and accept the development keys.
DEBUG = env_bool("DEBUG", False)
if DEBUG:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
    JWT_SIGNING_KEY = os.environ.get("JWT_SIGNING_KEY", SECRET_KEY)
else:
    SECRET_KEY = production_key("SECRET_KEY")
    JWT_SIGNING_KEY = production_key("JWT_SIGNING_KEY")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # operator classes in index expressions (the admin's search)
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc, served from our static files
    "graphene_django",
    "graphene_django_graphiql_static",  # GraphiQL's bundles, served from our static files
    "metadata",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "metadata.middleware.RequestIdMiddleware",
    "metadata.ops.logging.RequestLogMiddleware",
    "metadata.middleware.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "metadata_gateway.urls"
WSGI_APPLICATION = "metadata_gateway.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes SQLite's write lock when a transaction starts, so concurrent writers
    # queue instead of failing with "database is locked" half-way through a read-modify-write.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0


def postgres_options() -> dict[str, object]:
    """Values bound server-side, and a statement prepared once it has run twice on a connection.

    The per-request queries are then planned once per connection instead of once per request,
    and psycopg no longer inlines values into the SQL text in Python: `make bench` measured a
    REST GET at about half the time. DATABASE_PREPARED_STATEMENTS=false turns it off (behind
    PgBouncer older than 1.21 in transaction mode, for example).
    """
    # A database host that does not answer must fail a request within seconds (a clean 503,
    # or a replica's reads falling back to the primary), not hold a worker until gunicorn
    # kills it.
    timeout = {"connect_timeout": int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "3"))}
    if not env_bool("DATABASE_PREPARED_STATEMENTS", True):
        return timeout
    return {
        **timeout,
        "server_side_binding": True,
        "prepare_threshold": int(os.environ.get("DATABASE_PREPARE_THRESHOLD", "2")),
    }


if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["OPTIONS"] = postgres_options()

# TEST_DB_NAME lets several test runs share a machine; on SQLite the test database is a file,
# not memory, so live servers started by the tests share it.
_TEST_DB_NAME = os.environ.get("TEST_DB_NAME", "test_metadata_gateway")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f"{_TEST_DB_NAME}.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": _TEST_DB_NAME}

REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        REPLICA_URL, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"], conn_health_checks=True
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    if DATABASES["replica"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["replica"]["OPTIONS"] = postgres_options()
# With a replica: a caller's reads stay on the primary this long after their write
# (read-your-writes; the marker lives in the shared cache, so set REDIS_URL), and a replica
# found unreachable is left alone this long before it is tried again.
REPLICA_PIN_SECONDS = float(os.environ.get("REPLICA_PIN_SECONDS", "5"))
REPLICA_RETRY_SECONDS = float(os.environ.get("REPLICA_RETRY_SECONDS", "5"))
DATABASE_ROUTERS = ["metadata_gateway.routers.PrimaryReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "metadata.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# Bodies are refused (413) before parsing past this size; see metadata.rules.MAX_BODY_BYTES.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024

# Bodies over 64 KiB (metadata.rules.MAX_BODY_BYTES) are refused with 413 by their declared
# length, before any door reads them (metadata.middleware.BodySizeLimitMiddleware). Each door
# answers that refusal in its own error format and may allow some routes larger bodies:
# (path prefix, the door's answer, the door's table of larger limits); the first prefix that
# matches decides. Paths of no door (the admin, operations) are answered in plain text.
BODY_SIZE_DOORS = (
    ("/v1/graphql", "metadata.graphql.errors.body_too_large", None),
    ("/v1/", "metadata.rest.errors.body_too_large", "metadata.rest.parsers.BODY_LIMITS"),
)

REDIS_URL = os.environ.get("REDIS_URL", "")
# Without Redis each process counts rate limits alone; `make serve` (metadata_gateway/gunicorn.py)
# refuses several workers with DEBUG off unless this says that is intended.
THROTTLE_PER_PROCESS = env_bool("THROTTLE_PER_PROCESS", False)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                # A Redis outage degrades throttling; it never fails a metadata read or write.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Requests per caller (a token's user, or the client address for token requests) per window.
GATEWAY_THROTTLE_RATES = {
    "user": os.environ.get("THROTTLE_USER_RATE", "1200/min"),
    "anonymous": os.environ.get("THROTTLE_ANONYMOUS_RATE", "60/min"),
}

# Webhook delivery: per-POST timeout, lease of a claimed delivery, backoff and give-up.
WEBHOOK_DELIVERY = {
    "timeout_seconds": float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "5")),
    "lease_seconds": float(os.environ.get("WEBHOOK_LEASE_SECONDS", "30")),
    "base_backoff_seconds": float(os.environ.get("WEBHOOK_BACKOFF_SECONDS", "2")),
    "max_backoff_seconds": float(os.environ.get("WEBHOOK_MAX_BACKOFF_SECONDS", "3600")),
    "max_attempts": int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "12")),
    "backoff_jitter": float(os.environ.get("WEBHOOK_BACKOFF_JITTER", "0.2")),
}
# Webhook targets must be public; these private networks (CIDRs) are allowed all the same.
WEBHOOK_ALLOWED_NETWORKS = [
    str(ipaddress.ip_network(cidr, strict=False))
    for cidr in networks("WEBHOOK_ALLOWED_NETWORKS", "")
]
# After a secret rotation the previous secret also signs deliveries for this long.
WEBHOOK_SECRET_GRACE_SECONDS = int(os.environ.get("WEBHOOK_SECRET_GRACE_SECONDS", "86400"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["metadata.rest.authentication.HeaderTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_PARSER_CLASSES": ["metadata.rest.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "metadata.rest.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Metadata gateway",
    "DESCRIPTION": "Partner metadata for accounts, users, properties, entities, counterparts "
    "and payables: the Monite-shaped REST door. The Kraken-shaped GraphQL door is at "
    "/v1/graphql/.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The consoles load nothing from a CDN: their assets come with drf-spectacular-sidecar.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No badge from Swagger's online validator (a request to validator.swagger.io).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # 3.1: JSON Schema 2020-12 says what the server checks (propertyNames, a self-referring
    # value schema); `metadata.rest.schema_postprocess` adds what the builders cannot emit.
    "OAS_VERSION": "3.1.0",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "metadata.rest.schema_postprocess.postprocess",
    ],
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=60),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "ALGORITHM": "HS256",
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "AUTH_HEADER_TYPES": ("Bearer", "JWT"),
    "UPDATE_LAST_LOGIN": False,
}

# Tokens of the platform's identity provider (contract section 14): on when all three are set.
OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "")
OIDC_AUDIENCE = os.environ.get("OIDC_AUDIENCE", "")
OIDC_JWKS_URL = os.environ.get("OIDC_JWKS_URL", "")
OIDC_JWKS_TIMEOUT_SECONDS = float(os.environ.get("OIDC_JWKS_TIMEOUT_SECONDS", "3"))
OIDC_JWKS_MIN_REFETCH_SECONDS = float(os.environ.get("OIDC_JWKS_MIN_REFETCH_SECONDS", "60"))
OIDC_JWKS_LIFESPAN_SECONDS = float(os.environ.get("OIDC_JWKS_LIFESPAN_SECONDS", "300"))
OIDC_JWKS_RETRY_SECONDS = float(os.environ.get("OIDC_JWKS_RETRY_SECONDS", "10"))
OIDC_LEEWAY_SECONDS = float(os.environ.get("OIDC_LEEWAY_SECONDS", "0"))

# No graphene middleware: with DEBUG, graphene adds its debug middleware, which wraps every
# database cursor of every request.
GRAPHENE = {"SCHEMA": "metadata.graphql.schema.schema", "MIDDLEWARE": ()}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
# Load balancers and orchestrators probe the backend over plain HTTP and count a 301 as
# unhealthy: the probes answer without the HTTPS redirect (SecurityMiddleware matches these
# against the path without its leading slash).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"


# Prometheus metrics at /metrics, to these networks only (the client's address, see below).
METRICS_ALLOWED_IPS = networks("METRICS_ALLOWED_IPS", "127.0.0.0/8,::1/128")

# Reverse proxies whose X-Forwarded-For names the client (metadata.addresses): rate limits
# and /metrics then see the client, not the proxy. Empty: the header is never read.
TRUSTED_PROXIES = networks("TRUSTED_PROXIES", "")

# One JSON line per request on stdout (metadata.requests); REQUEST_LOG=false silences it.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json"}},
    "loggers": {
        "metadata.requests": {
            "handlers": ["json"],
            "level": "INFO" if env_bool("REQUEST_LOG", True) else "WARNING",
            "propagate": False,
        },
    },
    "root": {"handlers": ["json"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
