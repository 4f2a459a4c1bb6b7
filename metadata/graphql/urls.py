"""`/v1/graphql/`: the Kraken-shaped GraphQL door (the API, and GraphiQL for browsers)."""

from django.urls import path

from metadata.graphql.budget import with_budget
from metadata.graphql.view import graphql_door

# Answers carry the caller's rate-limit budget, as REST answers do (`budget`).
urlpatterns = [
    path("", with_budget(graphql_door), name="graphql"),
]
