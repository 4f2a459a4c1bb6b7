"""Operations endpoints: liveness, readiness and metrics."""

from django.urls import path

from metadata.ops import views
from metadata.ops.metrics import metrics_view

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
]
