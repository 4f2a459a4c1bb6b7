"""REST routes (filled in by the REST door)."""

urlpatterns: list = []
