"""Routes: the REST door and its schema under /v1/, the GraphQL door, the admin, operations."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("v1/graphql/", include("metadata.graphql.urls")),
    path("v1/", include("metadata.rest.urls")),
    path("", include("metadata.ops.urls")),
]

if settings.BENCHMARK_FLOOR:  # `make bench` only (BENCHMARK_FLOOR=1): the floor it compares with
    urlpatterns.insert(0, path("bench/", include("bench.urls")))
