"""GraphQL route (filled in by the GraphQL door)."""

urlpatterns: list = []
