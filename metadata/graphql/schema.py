"""The GraphQL schema of the Kraken-shaped door; `docs/schema.graphql` is its SDL.

The schema names the specification's directives, with one change that clients need:
graphql-core 3.2.14 lists `DIRECTIVE_DEFINITION` among `@deprecated`'s locations, and a client
on graphql-core 3.2.0 to 3.2.10, which has no such location (gql 3.5 pins graphql-core < 3.2.7),
refuses to build a schema from an introspection that names it. `@deprecated` here has the four
locations of the GraphQL specification (October 2021), which every client accepts (gql 3.5 and
4.x, graphql-js 16: tests/clients). Nothing in this schema deprecates a directive, so nothing
is lost; graphene's public `directives` argument carries the list.
"""

from __future__ import annotations

import graphene
from graphql import (
    DirectiveLocation,
    GraphQLDeprecatedDirective,
    GraphQLDirective,
    specified_directives,
)

from metadata.graphql.mutations import Mutation
from metadata.graphql.queries import Query

SPEC_DEPRECATED_LOCATIONS = (
    DirectiveLocation.FIELD_DEFINITION,
    DirectiveLocation.ARGUMENT_DEFINITION,
    DirectiveLocation.INPUT_FIELD_DEFINITION,
    DirectiveLocation.ENUM_VALUE,
)

deprecated_directive = GraphQLDirective(
    name=GraphQLDeprecatedDirective.name,
    locations=SPEC_DEPRECATED_LOCATIONS,
    args=GraphQLDeprecatedDirective.args,
    is_repeatable=GraphQLDeprecatedDirective.is_repeatable,
    description=GraphQLDeprecatedDirective.description,
)

directives = tuple(
    deprecated_directive if directive is GraphQLDeprecatedDirective else directive
    for directive in specified_directives
)

schema = graphene.Schema(query=Query, mutation=Mutation, directives=directives)
