"""`/v1/graphql/`: the Kraken-shaped GraphQL door."""

from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from metadata.graphql.view import MetadataGraphQLView

# CSRF is checked inside the view, for cookie-session requests only (see `view.needs_csrf_check`).
urlpatterns = [
    path("", csrf_exempt(MetadataGraphQLView.as_view()), name="graphql"),
]
