"""Request limits (contract section 6, stack note 1): tokens, depth and selected fields.

`MAX_TOKENS` is enforced by the parser (`documents.prepare`), before a query is walked or
cached. Depth and field count are one validation rule run with graphql-core's standard
rules (never instead of them: replacing them makes unknown fields silently answer `{}`).

Unlike graphene's `depth_limit_validator`, introspection fields count: a 30-deep
`__schema { types { fields { type { ofType ...` is refused like any other, while GraphiQL's
standard introspection query (depth 12) passes. Fragments are expanded where they are
spread, so they cannot hide depth or multiply fields; the walk is iterative and bounded by
a work budget, so a hostile document costs at most a few thousand steps.

`OneLoginPerDocumentRule` refuses a document with more than one `obtainKrakenToken` field
(contract section 11): the login throttle counts a request once, so each further login field
would be a password hash the limit never sees.
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
    ValidationContext,
    ValidationRule,
    specified_rules,
)

from metadata.errors import RuleViolation
from metadata.graphql.errors import CODES

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

LOGIN_FIELD = "obtainKrakenToken"
MSG_ONE_LOGIN = (
    "A request may hold only one obtainKrakenToken field (aliases, fragments and other "
    "operations of the document included); send one login per request."
)


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


class OneLoginPerDocumentRule(ValidationRule):
    """Refuses a document that names `obtainKrakenToken` more than once, anywhere.

    Every occurrence in the text counts (each alias, each fragment, every operation, not only
    the one that would run): what is written is what a client could make run, and counting
    the text needs no fragment expansion, so nothing can hide a second login. Validation runs
    before execution, so a refused document checks no password, key or refresh token. The
    error is Kraken's VALIDATION / KT-CT-8411, the code of every other broken request rule.
    """

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.logins = 0

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        if node.name.value != LOGIN_FIELD:
            return
        self.logins += 1
        if self.logins == 2:  # one error per document, however many logins it holds
            self.report_error(
                GraphQLError(MSG_ONE_LOGIN, node, extensions=request_rule_extensions(MSG_ONE_LOGIN))
            )


def request_rule_extensions(message: str) -> dict[str, object]:
    """Kraken's extensions for a request that breaks a rule (VALIDATION / KT-CT-8411)."""
    code = CODES[RuleViolation.code]
    return {
        "errorType": code.error_type,
        "errorCode": code.error_code,
        "errorDescription": code.description,
        "validationErrors": [{"message": message, "inputPath": []}],
    }


VALIDATION_RULES = (*specified_rules, QueryLimitsRule, OneLoginPerDocumentRule)
