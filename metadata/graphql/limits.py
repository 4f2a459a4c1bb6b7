"""Request limits (contract section 6, stack note 1): tokens, depth and selected fields.

`MAX_TOKENS` is enforced by the parser (`documents.prepare`), before a query is walked or
cached. Depth and field count are one validation rule run with graphql-core's standard
rules (never instead of them: replacing them makes unknown fields silently answer `{}`).

Unlike graphene's `depth_limit_validator`, introspection fields count: a 30-deep
`__schema { types { fields { type { ofType ...` is refused like any other, while GraphiQL's
standard introspection query (depth 12) passes. Fragments are expanded where they are
spread, so they cannot hide depth or multiply fields; the walk is iterative and bounded by
a work budget, so a hostile document costs at most a few thousand steps.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    specified_rules,
)

MAX_TOKENS = 2000
MAX_DEPTH = 15
MAX_FIELDS = 500
# Selections (fields and fragment spreads) walked per operation before giving up: more than
# MAX_FIELDS, so every valid document is walked completely, but bounded against fragments
# that spread each other without selecting fields.
MAX_WORK = 10 * MAX_FIELDS

MSG_TOO_DEEP = "The query is nested more than {limit} levels deep; the limit is {limit}."
MSG_TOO_MANY_FIELDS = (
    "The query selects more than {limit} fields (aliases and fragments included); "
    "the limit is {limit}."
)
MSG_TOO_COMPLEX = "The query's fragments are too complex to check; simplify the query."
MSG_TOO_MANY_TOKENS = "The query is over the limit of {limit} tokens."


@dataclass
class Measure:
    depth: int = 0
    fields: int = 0
    work: int = 0
    too_deep: bool = False


class QueryLimitsRule(ValidationRule):
    """Refuses an operation deeper than MAX_DEPTH or selecting more than MAX_FIELDS fields."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: object) -> None:
        measure = self.measure(node.selection_set)
        if measure.work > MAX_WORK:
            self.report_error(GraphQLError(MSG_TOO_COMPLEX, node))
        if measure.too_deep:
            self.report_error(GraphQLError(MSG_TOO_DEEP.format(limit=MAX_DEPTH), node))
        if measure.fields > MAX_FIELDS:
            self.report_error(GraphQLError(MSG_TOO_MANY_FIELDS.format(limit=MAX_FIELDS), node))

    def measure(self, root: SelectionSetNode) -> Measure:
        measure = Measure()
        # (selection set, depth of its fields, fragments spread on the way to it)
        stack: list[tuple[SelectionSetNode, int, frozenset[str]]] = [(root, 1, frozenset())]
        while stack:
            selection_set, depth, spread = stack.pop()
            for selection in selection_set.selections:
                measure.work += 1
                if measure.work > MAX_WORK or measure.fields > MAX_FIELDS:
                    return measure
                if isinstance(selection, FieldNode):
                    measure.fields += 1
                    if depth > MAX_DEPTH:
                        measure.too_deep = True
                        continue
                    measure.depth = max(measure.depth, depth)
                    if selection.selection_set is not None:
                        stack.append((selection.selection_set, depth + 1, spread))
                elif isinstance(selection, InlineFragmentNode):
                    stack.append((selection.selection_set, depth, spread))
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.context.get_fragment(name)
                    # Unknown and cyclic spreads are reported by the standard rules.
                    if fragment is not None and name not in spread:
                        stack.append((fragment.selection_set, depth, spread | {name}))
        return measure


VALIDATION_RULES = (*specified_rules, QueryLimitsRule)
