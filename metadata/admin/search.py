"""The metadata changelist's search, routed by what was typed (issue 22).

Support staff type one or more terms; every term narrows the list (terms are ANDed):

- an identifier: a UUID, an account number (`A-154321`), an email or an integer id. Each
  linked type whose identifier has that form (the registry's `looks_like_identifier`) is
  probed once, exactly, through the `(content type, object id)` index: the object's rows.
- `key:value`: rows with exactly that key whose value's JSON text contains `value`
  (`tier:gold`, `external_id:"id_6c8f"`, `limits:3000`); `key:` alone is every row of the key.
- a quoted term (`"Café owner"`): rows whose value's JSON text contains it.
- any other word: rows whose key starts with it; when no key does, rows whose key or value
  contains it.

Text matches ignore case. On PostgreSQL the key prefix and both substring searches are served by
the trigram indexes of migration 0009 (over `UPPER(key)` and `UPPER(value::text)`, the
expressions Django writes for `istartswith`/`icontains`); SQLite scans.

A term is never an error: one that matches nothing finds nothing (Django's search form already
refuses NUL bytes, which PostgreSQL could not compare, with a message).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any

from django.db import connections, models
from django.db.models import CharField, Q, TextField, Value
from django.db.models.functions import Cast, Concat, Substr
from django.utils.text import smart_split, unescape_string_literal

from metadata.admin.identifiers import content_types
from metadata.linkables import Linkable

HELP_TEXT = (
    "Type an identifier (UUID, account number like A-154321, email or integer id) for an "
    "object's rows; key:value for a key whose value contains the text (key: for every row "
    'of a key); "quoted text" for values containing it; any other word for keys starting '
    "with it (or, when no key does, keys and values containing it). Several terms narrow "
    "the list together; case is ignored."
)

VALUE_TEXT = "admin_value_text"  # the annotation holding a row's value as JSON text
NOTHING = Q(pk__in=[])
UUID_GROUPS = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))  # 1-based, in 32 hex digits


class Kind(Enum):
    IDENTIFIER = "identifier"
    KEY_VALUE = "key:value"
    VALUE = "value"
    WORD = "word"


@dataclass(frozen=True)
class Term:
    kind: Kind
    text: str
    key: str = ""


def _unquoted(text: str) -> tuple[str, bool]:
    if len(text) > 1 and text[0] in "\"'" and text[0] == text[-1]:
        return unescape_string_literal(text), True
    return text, False


def parse(search: str, linkables: Iterable[Linkable]) -> list[Term]:
    """The terms of a search, each with its route (pure: no query)."""
    known = list(linkables)
    terms = []
    for bit in smart_split(search):
        text, quoted = _unquoted(bit)
        if quoted:
            if text.strip():
                terms.append(Term(Kind.VALUE, text))
        elif any(lk.looks_like_identifier(bit) for lk in known):
            terms.append(Term(Kind.IDENTIFIER, bit))
        elif ":" in bit[1:]:
            key, _, value = bit.partition(":")
            terms.append(Term(Kind.KEY_VALUE, _unquoted(value)[0], key=key))
        else:
            terms.append(Term(Kind.WORD, bit))
    return terms


def _pk_as_object_id(model: type[models.Model], vendor: str) -> Any:
    """The primary key as `Metadata.object_id` holds it (str(pk)), in SQL.

    SQLite stores a UUID as 32 hex digits: the dashes are put back in SQL, so that an
    identifier costs one query on both engines whether or not it names an object.
    """
    text = Cast("pk", CharField())
    if vendor == "postgresql" or not isinstance(model._meta.pk, models.UUIDField):
        return text
    dash = Value("-")
    parts = [Substr(text, start, length) for start, length in UUID_GROUPS]
    return Concat(parts[0], dash, parts[1], dash, parts[2], dash, parts[3], dash, parts[4])


def _object_ids(linkable: Linkable, identifier: str, using: str) -> models.QuerySet:
    """The `object_id` of the object an identifier names, as a subquery: an unknown identifier
    costs the same one query as a known one, so timings tell view-only staff nothing."""
    matches = linkable.model._default_manager.using(using).filter(
        **{linkable.identifier_field: identifier}
    )
    as_text = _pk_as_object_id(linkable.model, connections[using].vendor)
    return matches.annotate(admin_object_id=as_text).values("admin_object_id")


def identifier_condition(text: str, using: str) -> Q:
    """The rows of the object(s) an identifier names: one probe per type of that form."""
    condition = NOTHING
    for linkable, content_type in content_types().items():
        if not linkable.looks_like_identifier(text):
            continue
        if linkable.identifier_field == "pk":
            object_id = str(linkable.parse_identifier(text))
            match = Q(object_id=object_id)
        else:
            match = Q(object_id__in=_object_ids(linkable, text, using))
        condition |= Q(content_type=content_type) & match
    return condition


def value_condition(text: str, vendor: str) -> Q:
    condition = Q(**{f"{VALUE_TEXT}__icontains": text})
    escaped = json.dumps(text)[1:-1]
    if vendor == "sqlite" and escaped != text:  # SQLite keeps JSON with \\u escapes
        condition |= Q(**{f"{VALUE_TEXT}__icontains": escaped})
    return condition


def key_condition(key: str) -> Q:
    """Rows with exactly this key, through the (content type, key) index: one probe per type."""
    return Q(content_type__in=list(content_types().values()), key=key)


def term_condition(term: Term, queryset: models.QuerySet) -> Q:
    """The rows one term keeps. A bare word may cost one probe (does any key start with it?)."""
    vendor = connections[queryset.db].vendor
    if term.kind is Kind.IDENTIFIER:
        return identifier_condition(term.text, queryset.db)
    if term.kind is Kind.KEY_VALUE:
        condition = key_condition(term.key)
        return condition & value_condition(term.text, vendor) if term.text else condition
    if term.kind is Kind.VALUE:
        return value_condition(term.text, vendor)
    prefix = Q(key__istartswith=term.text)
    if queryset.filter(prefix).exists():
        return prefix
    return Q(key__icontains=term.text) | value_condition(term.text, vendor)


def search(queryset: models.QuerySet, search_term: str) -> models.QuerySet:
    """The queryset narrowed by every term of the search."""
    terms = parse(search_term, content_types())
    if not terms:
        return queryset
    queryset = queryset.alias(**{VALUE_TEXT: Cast("value", TextField())})
    for term in terms:
        queryset = queryset.filter(term_condition(term, queryset))
    return queryset


@contextmanager
def planned_for_their_values(using: str) -> Iterator[None]:
    """The block's queries go unprepared, so PostgreSQL plans each for its own values.

    psycopg prepares a statement once it has run twice on a connection (`postgres_options` in
    the settings), and PostgreSQL may then plan it once for any value. A search's best plan
    depends on its term: planned for "any pattern", `LIKE $1 ... LIMIT 1` scans the whole
    table where the pattern's statistics would have picked the trigram index. The doors'
    fixed queries keep their prepared statements; only the admin's lists turn them off, and
    only while they run.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    if not hasattr(raw, "prepare_threshold"):  # psycopg 2 prepares nothing
        yield
        return
    previous = raw.prepare_threshold
    raw.prepare_threshold = None
    try:
        yield
    finally:
        raw.prepare_threshold = previous
