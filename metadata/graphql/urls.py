"""`/v1/graphql/`: the Kraken-shaped GraphQL door."""

from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from metadata.graphql.budget import with_budget
from metadata.graphql.view import MetadataGraphQLView

# CSRF is checked inside the view, for cookie-session requests only (see `view.needs_csrf_check`).
# Answers carry the caller's rate-limit budget, as REST answers do (`budget`).
urlpatterns = [
    path("", csrf_exempt(with_budget(MetadataGraphQLView.as_view())), name="graphql"),
]
