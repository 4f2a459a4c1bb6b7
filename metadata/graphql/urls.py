"""`/v1/graphql/`: the Kraken-shaped GraphQL door (the API, and GraphiQL for browsers)."""

from django.urls import path

from metadata.graphql.view import graphql_door

urlpatterns = [
    path("", graphql_door, name="graphql"),
]
