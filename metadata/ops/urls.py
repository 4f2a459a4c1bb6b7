"""Operations endpoints: liveness and readiness."""

from django.urls import path

from metadata.ops import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
]
