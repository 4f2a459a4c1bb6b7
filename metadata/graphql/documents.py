"""Parsed and validated documents, cached by query text (stack note 8).

Parsing and validating a small query costs milliseconds; clients send the same few query
texts over and over, so the outcome is kept in a small LRU keyed by the text. The token cap
applies first (`parse(max_tokens=...)`), and only texts that parsed within it, and are not
huge, become keys: an attacker cannot fill the cache with megabytes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse, validate

from metadata.graphql.limits import MAX_TOKENS

CACHE_SIZE = 128
MAX_CACHED_QUERY_CHARS = 16 * 1024


@dataclass(frozen=True)
class Prepared:
    """A query text's document, or the errors that stop it from being executed."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]


class DocumentCache:
    """A thread-safe LRU of `Prepared` documents for one schema and set of validation rules."""

    def __init__(
        self,
        schema: GraphQLSchema,
        rules: Collection[type[ASTValidationRule]],
        size: int = CACHE_SIZE,
    ) -> None:
        self.schema = schema
        self.rules = rules
        self.size = size
        self._entries: OrderedDict[str, Prepared] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def prepare(self, query: str) -> Prepared:
        with self._lock:
            prepared = self._entries.get(query)
            if prepared is not None:
                self._entries.move_to_end(query)
                self.hits += 1
                return prepared
            self.misses += 1
        prepared = self._prepare(query)
        if prepared.document is not None and len(query) <= MAX_CACHED_QUERY_CHARS:
            with self._lock:
                self._entries[query] = prepared
                self._entries.move_to_end(query)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return prepared

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def _prepare(self, query: str) -> Prepared:
        try:
            document = parse(query, max_tokens=MAX_TOKENS)
        except GraphQLError as error:
            return Prepared(document=None, errors=(error,))
        errors = validate(self.schema, document, self.rules)
        return Prepared(document=document, errors=tuple(errors))
