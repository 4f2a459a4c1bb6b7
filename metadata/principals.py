"""Who is calling: a user id from a token, and the few facts the permission needs about them.

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
from django.db.models import Exists, Expression, Q

from metadata.compiled import CompiledQuery, Placeholder, compile_query
from metadata.models import User

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


def _has_permission(user_id: Any, codename: str) -> Expression:
    """True when the user holds the permission directly, through a group, or as superuser.

    `user_id` is a value (or a placeholder for one), never an `OuterRef`: it is used two
    subqueries deep. The permission is found once and its holders by `IN` on the link
    tables' (user, permission) and (user, group) indexes: PostgreSQL plans this in a fifth
    of the time of one join chain per path (auth_permission and django_content_type joined
    again for each), and that planning was most of a read's database time (`make bench`).
    """
    direct = User.user_permissions.through.objects.filter(user_id=user_id)
    user_groups = User.groups.through.objects.filter(user_id=user_id)
    grouped = Group.permissions.through.objects.filter(group_id__in=user_groups.values("group_id"))
    held = Permission.objects.filter(content_type__app_label=APP_LABEL, codename=codename).filter(
        Q(pk__in=direct.values("permission_id")) | Q(pk__in=grouped.values("permission_id"))
    )
    superuser = User.objects.filter(pk=user_id, is_superuser=True)
    return Exists(held) | Exists(superuser)


def flag_annotations(user_id: Any, prefix: str = "principal_") -> dict[str, Expression]:
    """Expressions that compute a principal's `Flags` inside any other query."""
    return {
        f"{prefix}is_active": Exists(User.objects.filter(pk=user_id, is_active=True)),
        f"{prefix}can_mutate_any": _has_permission(user_id, MUTATE_CODENAME),
        f"{prefix}can_view_any": _has_permission(user_id, VIEW_CODENAME),
    }


def flags_from_row(row: Any, prefix: str = "principal_") -> Flags:
    return Flags(
        is_active=bool(getattr(row, f"{prefix}is_active")),
        can_mutate_any=bool(getattr(row, f"{prefix}can_mutate_any")),
        can_view_any=bool(getattr(row, f"{prefix}can_view_any")),
    )


@dataclass(eq=False)
class Principal:
    """The authenticated caller. Quacks enough like a user for DRF's throttles and logs."""

    user_id: uuid.UUID
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
    def flags_loaded(self) -> bool:
        return self._flags is not None

    def prime(self, flags: Flags) -> None:
        if self._flags is None:
            self._flags = flags

    @property
    def flags(self) -> Flags:
        if self._flags is None:
            self._flags = load_flags(self.user_id)
        return self._flags


# Stand-in for the user id while the flags query is compiled; names no real user.
_SENTINEL_USER = uuid.UUID("00000000-0000-4000-8000-00005e471ae3")
_compiled_flags: dict[str, CompiledQuery] = {}


def _flags_query(user_id: Any) -> Any:
    return (
        User.objects.filter(pk=user_id)
        .annotate(**flag_annotations(user_id))
        .order_by()
        .values_list("principal_is_active", "principal_can_mutate_any", "principal_can_view_any")[
            :1
        ]
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
        placeholder = Placeholder(_SENTINEL_USER, User._meta.pk)
        compiled = compile_query(_flags_query, {"user_id": placeholder}, alias)
        _compiled_flags[vendor] = compiled
    rows = compiled.rows(user_id=user_id)
    if not rows:
        return INACTIVE
    is_active, can_mutate_any, can_view_any = rows[0]
    return Flags(
        is_active=bool(is_active),
        can_mutate_any=bool(can_mutate_any),
        can_view_any=bool(can_view_any),
    )


def reach_condition(path: str, user_id: Any) -> Q:
    """The filter that keeps objects a user reaches through `path` (a registry `reach`)."""
    return Q(**{path: user_id})
