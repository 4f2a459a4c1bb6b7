"""Who is calling: a user id from a token, and the few facts the permission needs about them.

A partner client's token also names the client (contract section 11): such a principal
reaches the objects of the entities the client serves (`serves`, `served_condition`) and
holds no global flag (`client_flag_annotations`), whatever its user holds as a person.

A principal is stateless until a decision needs the user's state; then one query loads it
(or the target selector loads it alongside the object, `flag_annotations`), so a read costs
no separate user query.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import connections, router
from django.db.models import Exists, Expression, Model, OuterRef, Q, QuerySet, Value
from django.db.models.constants import LOOKUP_SEP
from django.db.models.signals import post_delete, post_migrate, post_save

from metadata.compiled import CompiledQuery, Placeholder, compile_query
from metadata.models import PartnerClient, User

APP_LABEL = "metadata"
MUTATE_CODENAME = "can_mutate_metadata"
VIEW_CODENAME = "view_metadata"
MUTATE_PERMISSION = f"{APP_LABEL}.{MUTATE_CODENAME}"
VIEW_PERMISSION = f"{APP_LABEL}.{VIEW_CODENAME}"


@dataclass(frozen=True)
class Flags:
    is_active: bool
    can_mutate_any: bool
    can_view_any: bool


INACTIVE = Flags(is_active=False, can_mutate_any=False, can_view_any=False)


# A primary key no permission has: binds a permission the database does not (yet) hold.
NO_PERMISSION = 0
_permission_ids: dict[str, dict[str, int]] = {}


def flag_values(alias: str) -> dict[str, int]:
    """The values of `flag_placeholders` on one database: the two permissions' ids, cached
    per process.

    With the ids bound, a flag is lookups on the link tables' (user, permission) and
    (group, permission) indexes, with no scan of `auth_permission` per request (a sixth
    of a REST read's database time, `make bench`). The ids change when permissions are
    created again (`flush`, or by hand) in any process, so every query that binds them
    also says whether they still name the two permissions (`flag_annotations`), and
    `row_with_flags` looks them up again when they do not. This process also drops them
    after `migrate` and `flush` and when it saves or deletes a `Permission`.
    """
    ids = _permission_ids.get(alias)
    if ids is None:
        codenames = (MUTATE_CODENAME, VIEW_CODENAME)
        found = dict(
            Permission.objects.using(alias)
            .filter(content_type__app_label=APP_LABEL, codename__in=codenames)
            .values_list("codename", "pk")
        )
        ids = {
            "can_mutate_id": found.get(MUTATE_CODENAME, NO_PERMISSION),
            "can_view_id": found.get(VIEW_CODENAME, NO_PERMISSION),
        }
        _permission_ids[alias] = ids
    return ids


def forget_permission_ids(**kwargs: Any) -> None:
    _permission_ids.clear()


def watch_permissions() -> None:
    """Drop the cached permission ids whenever this process may have changed permissions."""
    post_migrate.connect(forget_permission_ids, dispatch_uid="metadata-permission-ids")
    for signal in (post_save, post_delete):
        signal.connect(
            forget_permission_ids, sender=Permission, dispatch_uid="metadata-permission-ids"
        )


def _has_permission(user_id: Any, permission_id: Any) -> Expression:
    """True when the user holds the permission directly, through a group, or as superuser.

    `user_id` and `permission_id` are values (or placeholders for them), never `OuterRef`s:
    they are used two subqueries deep.
    """
    direct = User.user_permissions.through.objects.filter(
        user_id=user_id, permission_id=permission_id
    )
    granting = Group.permissions.through.objects.filter(permission_id=permission_id)
    grouped = User.groups.through.objects.filter(
        user_id=user_id, group_id__in=granting.values("group_id")
    )
    superuser = User.objects.filter(pk=user_id, is_superuser=True)
    return Exists(direct) | Exists(grouped) | Exists(superuser)


# Stand-ins for the permission ids while a query with flags is compiled; no permission's.
_SENTINEL_MUTATE = -5_471_101
_SENTINEL_VIEW = -5_471_102


def flag_placeholders() -> dict[str, Placeholder]:
    """The placeholders `flag_annotations` takes besides the user id, for `compile_query`."""
    pk = Permission._meta.pk
    return {
        "can_mutate_id": Placeholder(_SENTINEL_MUTATE, pk),
        "can_view_id": Placeholder(_SENTINEL_VIEW, pk),
    }


def _names(permission_id: Any, codename: str) -> Exists:
    return Exists(
        Permission.objects.filter(
            pk=permission_id, content_type__app_label=APP_LABEL, codename=codename
        )
    )


FLAG_COLUMNS = (
    "principal_is_active",
    "principal_can_mutate_any",
    "principal_can_view_any",
    "principal_ids_current",
)


def flag_annotations(user_id: Any, can_mutate_id: Any, can_view_id: Any) -> dict[str, Expression]:
    """Expressions that compute a principal's `Flags` inside any other query: the
    `FLAG_COLUMNS`, the last saying whether the permission ids bound still name the two
    permissions (see `flag_values`)."""
    is_active, can_mutate_any, can_view_any, ids_current = FLAG_COLUMNS
    return {
        is_active: Exists(User.objects.filter(pk=user_id, is_active=True)),
        can_mutate_any: _has_permission(user_id, can_mutate_id),
        can_view_any: _has_permission(user_id, can_view_id),
        ids_current: _names(can_mutate_id, MUTATE_CODENAME) & _names(can_view_id, VIEW_CODENAME),
    }


def _acting_client(user_id: Any, client_id: Any, api_key_id: Any = None) -> QuerySet:
    """The client, while it exists and acts for this user, who is active, and (for a token
    earned with an API key) while that key of the client is not revoked. A token stays tied
    to the user it was issued for: reassigning a client to another user ends it."""
    acting = PartnerClient.objects.filter(pk=client_id, user_id=user_id, user__is_active=True)
    if api_key_id is not None:
        acting = acting.filter(api_keys__pk=api_key_id, api_keys__revoked_at__isnull=True)
    return acting


def client_flag_annotations(
    user_id: Any, client_id: Any, api_key_id: Any = None
) -> dict[str, Expression]:
    """The `FLAG_COLUMNS` of a partner client's principal (contract section 11).

    Active while the client exists and still acts for this active user (and the API key the
    token was earned with, if any, is not revoked); global flags never apply to a client,
    whatever its user holds, and no permission id is bound.
    """
    is_active, can_mutate_any, can_view_any, ids_current = FLAG_COLUMNS
    return {
        is_active: Exists(_acting_client(user_id, client_id, api_key_id)),
        can_mutate_any: Value(False),
        can_view_any: Value(False),
        ids_current: Value(True),
    }


def row_with_flags(
    compiled: CompiledQuery, **values: Any
) -> tuple[tuple[Any, ...] | None, Flags | None]:
    """Run a query of at most one row that ends with the `FLAG_COLUMNS`: the row's other
    columns and the flags, or (None, None) when there is no row.

    When the permission ids bound turn out stale, they are looked up again and the query
    runs once more.
    """
    alias = router.db_for_read(compiled.model)
    for attempt in range(2):
        rows = compiled.rows(**values, **flag_values(alias))
        if not rows or rows[0][-1] or attempt:
            break
        forget_permission_ids()
    if not rows:
        return None, None
    *columns, is_active, can_mutate_any, can_view_any, _ = rows[0]
    flags = Flags(
        is_active=bool(is_active),
        can_mutate_any=bool(can_mutate_any),
        can_view_any=bool(can_view_any),
    )
    return tuple(columns), flags


@dataclass(eq=False)
class Principal:
    """The authenticated caller. Quacks enough like a user for DRF's throttles and logs."""

    user_id: uuid.UUID
    # The partner client whose `client_credentials` token this is (contract section 11), or
    # None for a person's own token: a client acts for its user but reaches only what it serves.
    client_id: uuid.UUID | None = None
    # The API key (of that client) the token was earned with: revoking it ends the token.
    api_key_id: uuid.UUID | None = None
    _flags: Flags | None = field(default=None, repr=False)

    is_authenticated = True
    is_anonymous = False

    @classmethod
    def for_user(cls, user: User) -> Principal:
        """A principal for a session user (the admin), with flags from Django's permissions."""
        return cls(
            user_id=user.pk,
            _flags=Flags(
                is_active=user.is_active,
                can_mutate_any=user.has_perm(MUTATE_PERMISSION),
                can_view_any=user.has_perm(VIEW_PERMISSION),
            ),
        )

    @property
    def pk(self) -> uuid.UUID:
        return self.user_id

    @property
    def is_client(self) -> bool:
        """A partner client's token: the client's reach, never its user's own."""
        return self.client_id is not None

    @property
    def flags_loaded(self) -> bool:
        return self._flags is not None

    def prime(self, flags: Flags) -> None:
        if self._flags is None:
            self._flags = flags

    @property
    def flags(self) -> Flags:
        if self._flags is None:
            if self.client_id is None:
                self._flags = load_flags(self.user_id)
            else:
                self._flags = load_client_flags(self.user_id, self.client_id, self.api_key_id)
        return self._flags


# Stand-in for the user id while the flags query is compiled; names no real user.
_SENTINEL_USER = uuid.UUID("00000000-0000-4000-8000-00005e471ae3")
_compiled_flags: dict[str, CompiledQuery] = {}


def _flags_query(user_id: Any, can_mutate_id: Any, can_view_id: Any) -> Any:
    return (
        User.objects.filter(pk=user_id)
        .annotate(**flag_annotations(user_id, can_mutate_id, can_view_id))
        .order_by()
        .values_list(*FLAG_COLUMNS)[:1]
    )


def load_flags(user_id: Any) -> Flags:
    """A user's flags, one query; `INACTIVE` when the user no longer exists.

    Compiled once per database vendor and run with the user id bound (`metadata.compiled`):
    building and compiling these nested subqueries with the ORM on every call cost several
    times the query itself (most of a lookup's time in `make bench`'s profile).
    """
    alias = router.db_for_read(User)
    vendor = connections[alias].vendor
    compiled = _compiled_flags.get(vendor)
    if compiled is None:
        placeholders = {"user_id": Placeholder(_SENTINEL_USER, User._meta.pk)}
        compiled = compile_query(_flags_query, {**placeholders, **flag_placeholders()}, alias)
        _compiled_flags[vendor] = compiled
    _, flags = row_with_flags(compiled, user_id=user_id)
    return flags or INACTIVE


def load_client_flags(user_id: Any, client_id: Any, api_key_id: Any = None) -> Flags:
    """A partner client's flags (`client_flag_annotations`), one query."""
    active = _acting_client(user_id, client_id, api_key_id).exists()
    return Flags(is_active=active, can_mutate_any=False, can_view_any=False)


def _served_links(client_id: Any) -> QuerySet:
    """The (client, entity) rows of the entities a client serves."""
    entities = PartnerClient._meta.get_field("entities")
    return entities.remote_field.through.objects.filter(**{entities.m2m_field_name(): client_id})


def serves(entity_field: str, client_id: Any) -> Exists:
    """Whether the client serves the entity of the outer query's row (`entity_field`, a
    registry entry's path to its entity): one lookup on the link table's (client, entity)
    index."""
    entity = PartnerClient._meta.get_field("entities").m2m_reverse_field_name()
    return Exists(_served_links(client_id).filter(**{entity: OuterRef(entity_field)}))


def served_condition(entity_field: str, client_id: Any) -> Q:
    """The filter that keeps the objects of the entities a client serves."""
    entity = PartnerClient._meta.get_field("entities").m2m_reverse_field_name()
    return Q(**{f"{entity_field}__in": _served_links(client_id).values(entity)})


def reach_condition(path: str, user_id: Any) -> Q:
    """The filter that keeps objects a user reaches through `path` (a registry `reach`)."""
    return Q(**{path: user_id})


def reaches(model: type[Model], path: str, user_id: Any) -> Exists:
    """Whether the user reaches the outer query's `model` row through `path`.

    For the registry's shapes, the row's own users (`users`) or the users of the row one
    foreign key away (`entity__users`), this is one lookup on the link table's (owner,
    user) index, keyed by the outer row's column; the ORM's `reach_condition` in a subquery
    would join the row's table back in (and the owner's) to get there. Any other path takes
    that general form.
    """
    links = _link_rows(model, path, user_id)
    if links is None:
        links = model.objects.filter(pk=OuterRef("pk")).filter(reach_condition(path, user_id))
    return Exists(links)


def _link_rows(model: type[Model], path: str, user_id: Any) -> QuerySet | None:
    *hops, last = path.split(LOOKUP_SEP)
    outer, owner = "pk", model
    if len(hops) > 1 or last == "pk":
        return None
    if hops:
        key = model._meta.get_field(hops[0])
        if not (key.many_to_one and key.concrete and key.target_field.primary_key):
            return None
        outer, owner = key.attname, key.related_model
    users = owner._meta.get_field(last)
    if not (users.many_to_many and users.concrete and users.related_model is User):
        return None
    return users.remote_field.through.objects.filter(
        **{users.m2m_field_name(): OuterRef(outer), users.m2m_reverse_field_name(): user_id}
    )
