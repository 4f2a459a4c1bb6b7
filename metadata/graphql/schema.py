"""The GraphQL schema of the Kraken-shaped door; `docs/schema.graphql` is its SDL."""

from __future__ import annotations

import graphene

from metadata.graphql.mutations import Mutation
from metadata.graphql.queries import Query

schema = graphene.Schema(query=Query, mutation=Mutation)
