"""/bench/...: routed only with BENCHMARK_FLOOR=1 (see `metadata_gateway.urls`)."""

from django.urls import path

from bench.floor import floor_view, floor_write_view

urlpatterns = [
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
