"""The read statement: an object, the caller's reach to it and flags, and its document.

See `metadata.sql` for why these are literal SQL.
"""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Field, UUIDField

from metadata.linkables import Linkable, by_name

# The caller's flags (contract section 3): whether the user is active, and whether they hold
# a permission of the app directly, through a group, or as superuser. Permissions are found
# by their codename each time: nothing is cached, so nothing has to be forgotten.
_GRANTED = """EXISTS (
        SELECT 1 FROM auth_permission p
        JOIN django_content_type t ON t.id = p.content_type_id
        WHERE t.app_label = 'metadata' AND p.codename = '{codename}'
          AND (p.id IN (SELECT permission_id FROM metadata_user_user_permissions
                        WHERE user_id = u.id)
               OR p.id IN (SELECT g.permission_id FROM auth_group_permissions g
                           JOIN metadata_user_groups ug ON ug.group_id = g.group_id
                           WHERE ug.user_id = u.id)))"""

USER_CALLER = f"""
    SELECT u.is_active AS is_active,
           u.is_superuser OR {_GRANTED.format(codename="can_mutate_metadata")} AS can_mutate_any,
           u.is_superuser OR {_GRANTED.format(codename="view_metadata")} AS can_view_any
    FROM metadata_user u WHERE u.id = %(user)s"""

# A partner client's token (contract section 11): active while the client exists and acts for
# this active user; it never holds a global flag, whatever its user holds as a person. No row
# when it is not active.
CLIENT_CALLER = """
    SELECT 1 = 1 AS is_active, 1 = 0 AS can_mutate_any, 1 = 0 AS can_view_any
    FROM metadata_partnerclient c JOIN metadata_user u ON u.id = c.user_id
    WHERE c.client_id = %(client)s AND c.user_id = %(user)s AND u.is_active"""

# ... and, for a token earned with an API key, while that key is not revoked.
API_KEY_CALLER = (
    CLIENT_CALLER
    + """
      AND EXISTS (SELECT 1 FROM metadata_apikey k
                  WHERE k.id = %(api_key)s AND k.client_id = c.client_id
                    AND k.revoked_at IS NULL)"""
)

CALLERS = {"user": USER_CALLER, "client": CLIENT_CALLER, "api_key": API_KEY_CALLER}

# One row while the caller is active or a user: the caller's flags, then the object with this
# identifier (NULLs when there is none), whether the caller reaches it, and its document as
# `[[key, value], ...]` JSON text. The object is LEFT JOINed to the caller, so a missing object
# still costs one statement, and the caller's flags decide before anything about it is said.
READ = """
SELECT caller.is_active, caller.can_mutate_any, caller.can_view_any,
       o.{pk}, {entity_column}, {reach}, {document}
FROM ({caller}) AS caller
LEFT JOIN {table} o ON o.{identifier} = %(key)s"""

# Whether the caller reaches the object `o` (the registry's `reach`), by the link table's
# (owner, user) index: the object's own users, or the users of the object one key away.
REACH_SELF = "o.{pk} = %(user)s"
REACH_LINK = "EXISTS (SELECT 1 FROM {link} r WHERE r.{owner} = o.{via} AND r.{user} = %(user)s)"
# A client reaches the objects of the entities it serves.
REACH_SERVED = """EXISTS (SELECT 1 FROM metadata_partnerclient_entities s
            WHERE s.partnerclient_id = %(client)s AND s.entity_id = o.{entity})"""

# An object's document as `[[key, value], ...]` JSON text (a JSON null value is SQL NULL in
# the row and `null` in the pair); `Metadata.object_id` holds the primary key as text. SQLite
# keeps JSON as text, which `json()` embeds as JSON, and UUIDs as 32 hex digits, which get
# their dashes back to match `object_id`.
DOCUMENT_OF = {
    "postgresql": """(SELECT CAST(json_agg(json_build_array(m.key, m.value)) AS text)
            FROM metadata_metadata m
            WHERE m.content_type_id = %(type)s AND m.object_id = CAST(o.{pk} AS text))""",
    "sqlite": """(SELECT json_group_array(json_array(m.key, json(m.value)))
            FROM metadata_metadata m
            WHERE m.content_type_id = %(type)s AND m.object_id = {object_id})""",
}
_SQLITE_UUID_TEXT = " || '-' || ".join(
    f"substr(o.{{pk}}, {start}, {length})"
    for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
)


@dataclass(frozen=True)
class Caller:
    """Whose access a read states: a user, or a partner client acting for its user."""

    user_id: uuid.UUID
    client_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Row:
    """What `read` found: the caller's flags and, when an object has the identifier, the
    object, whether the caller reaches it, and its document (None when not asked for)."""

    is_active: bool
    can_mutate_any: bool
    can_view_any: bool
    pk: Any
    entity_id: uuid.UUID | None
    reachable: bool
    document: dict[str, Any] | None


def field_of(linkable: Linkable, name: str) -> Field:
    """A registry path of one step as the model's field ("pk" is the primary key)."""
    meta = linkable.model._meta
    return meta.pk if name == "pk" else meta.get_field(name)


def columns(linkable: Linkable) -> dict[str, str]:
    """The names a statement about this type takes: its table, key and identifier columns."""
    entity = linkable.entity_field
    return {
        "table": linkable.model._meta.db_table,
        "pk": linkable.model._meta.pk.column,
        "identifier": field_of(linkable, linkable.identifier_field).column,
        "entity": field_of(linkable, entity).column if entity else "",
    }


def reach_sql(linkable: Linkable) -> str:
    """`REACH_SELF` or `REACH_LINK` for the registry's `reach` path; a `ValueError` for a path
    of another shape (reported by `metadata.checks` when Django starts)."""
    meta = linkable.model._meta
    *hops, last = linkable.reach.split("__")
    if not hops and last == "pk":
        return REACH_SELF.format(pk=meta.pk.column)
    via, owner = meta.pk.column, linkable.model
    if len(hops) == 1:
        key = meta.get_field(hops[0])
        if not (key.many_to_one and key.concrete and key.target_field.primary_key):
            raise ValueError(f"{linkable.name}: {hops[0]} is not a foreign key")
        via, owner = key.column, key.related_model
    elif hops:
        raise ValueError(f"{linkable.name}: a reach is at most one foreign key, then users")
    users = owner._meta.get_field(last)
    if not (users.many_to_many and users.concrete):
        raise ValueError(f"{linkable.name}: {last} is not a many-to-many field to users")
    link = users.remote_field.through._meta
    return REACH_LINK.format(
        link=link.db_table,
        owner=link.get_field(users.m2m_field_name()).column,
        user=link.get_field(users.m2m_reverse_field_name()).column,
        via=via,
    )


@functools.cache
def read_sql(name: str, vendor: str, caller: str, with_document: bool) -> str:
    """`READ` for one type (by name: a name hashes faster than its registry entry), database
    and kind of caller (`user`, `client` or `api_key`)."""
    linkable = by_name(name)
    names = columns(linkable)
    served = REACH_SERVED.format(entity=names["entity"])
    reach = reach_sql(linkable) if caller == "user" else served
    document = "NULL"
    if with_document:
        is_uuid = isinstance(linkable.model._meta.pk, UUIDField) and vendor == "sqlite"
        object_id = f"({_SQLITE_UUID_TEXT})" if is_uuid else "CAST(o.{pk} AS text)"
        document = DOCUMENT_OF[vendor].format(object_id=object_id.format(**names), **names)
    return READ.format(
        caller=CALLERS[caller],
        entity_column=f"o.{names['entity']}" if names["entity"] else "NULL",
        reach=reach,
        document=document,
        **names,
    )


def db_uuid(value: uuid.UUID | None, vendor: str) -> Any:
    """A UUID parameter as the database stores it (SQLite: 32 hex digits)."""
    if value is None or vendor == "postgresql":
        return value
    return uuid.UUID(str(value)).hex


def caller_kind(caller: Caller) -> str:
    if caller.client_id is None:
        return "user"
    return "client" if caller.api_key_id is None else "api_key"


def caller_params(caller: Caller, vendor: str) -> dict[str, Any]:
    return {
        "user": db_uuid(caller.user_id, vendor),
        "client": db_uuid(caller.client_id, vendor),
        "api_key": db_uuid(caller.api_key_id, vendor),
    }


def read(
    *,
    linkable: Linkable,
    key: Any,
    caller: Caller,
    alias: str,
    content_type_id: int | None = None,
) -> Row | None:
    """Run `READ`; None when the caller is not active (a client) or does not exist (a user).

    With `content_type_id`, the document comes with the object."""
    connection = connections[alias]
    vendor = connection.vendor
    sql = read_sql(linkable.name, vendor, caller_kind(caller), content_type_id is not None)
    identifier = field_of(linkable, linkable.identifier_field)
    params = {
        **caller_params(caller, vendor),
        "key": identifier.get_db_prep_value(key, connection),
        "type": content_type_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    if found is None:
        return None
    is_active, can_mutate_any, can_view_any, pk, entity_id, reachable, document = found
    return Row(
        is_active=bool(is_active),
        can_mutate_any=bool(can_mutate_any),
        can_view_any=bool(can_view_any),
        pk=None if pk is None else linkable.model._meta.pk.to_python(pk),
        entity_id=None if entity_id is None else uuid.UUID(str(entity_id)),
        reachable=bool(reachable),
        document=pairs_document(document) if content_type_id is not None else None,
    )


def flags(caller: Caller, alias: str) -> tuple[bool, bool, bool] | None:
    """The caller's (is_active, can_mutate_any, can_view_any) alone; None when no row."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(CALLERS[caller_kind(caller)], caller_params(caller, connection.vendor))
        found = cursor.fetchone()
    return None if found is None else (bool(found[0]), bool(found[1]), bool(found[2]))


def pairs_document(text: str | None) -> dict[str, Any]:
    """A `[[key, value], ...]` JSON text as a document, keys in order."""
    return dict(sorted(json.loads(text))) if text else {}
