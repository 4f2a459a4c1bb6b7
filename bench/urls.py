"""The benchmark's URLconf (`bench.settings`): the application's routes plus the floors under
/bench/. The floors skip the permission on purpose, so no other URLconf routes them."""

from django.urls import include, path

from bench.floor import floor_view, floor_write_view

floor_patterns = [
    path(
        "floor/<str:collection>/<str:identifier>/partner_metadata",
        floor_view,
        name="bench-floor",
    ),
    path(
        "floor-write/<str:collection>/<str:identifier>/partner_metadata",
        floor_write_view,
        name="bench-floor-write",
    ),
]

urlpatterns = [
    path("bench/", include(floor_patterns)),
    path("", include("metadata_gateway.urls")),
]
