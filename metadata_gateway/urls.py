"""Routes: the REST door and its schema under /v1/, the GraphQL door, the admin, operations.

The benchmark's floors are not routed here: `make bench` runs with `bench.settings`, whose
URLconf adds them to these routes.
"""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("v1/graphql/", include("metadata.graphql.urls")),
    path("v1/", include("metadata.rest.urls")),
    path("", include("metadata.ops.urls")),
]
