"""The objects a batch of lines touches, fetched once, and the writes its lines leave pending.

The importer checks each line in Python against these objects and records what it changes
here; `flush` then writes the batch with bulk statements (parents first), which is what
makes an import of 10^5 lines take well under a minute.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.core.management.color import no_style
from django.db import connections, models, router

from metadata.linkables import REGISTRY, Linkable, all_linkables
from metadata.models import User
from metadata.provisioning.lines import Line


def object_field(linkable: Linkable) -> str:
    """The model field a line's id sets: the primary key's name, or the identifier field."""
    if linkable.identifier_field == "pk":
        return linkable.model._meta.pk.name
    return linkable.identifier_field


def _creation_order() -> list[Linkable]:
    """Parents before the objects that hang on them."""
    return sorted(all_linkables(), key=lambda linkable: linkable.provisioning.parent is not None)


def _follow_sequence(model: type[models.Model]) -> None:
    """Objects created with the platform's integer keys leave PostgreSQL's sequence behind;
    move it past them, so a row added later in the admin does not collide with one."""
    if not isinstance(model._meta.pk, models.AutoField | models.BigAutoField):
        return
    connection = connections[router.db_for_write(model)]
    statements = connection.ops.sequence_reset_sql(no_style(), [model])
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


class Batch:
    """The objects a batch of lines touches, fetched once, and the writes it has pending."""

    def __init__(self, lines: list[Line]) -> None:
        self.reset(lines)

    def reset(self, lines: list[Line]) -> None:
        """Forget what was fetched (and fetch for `lines`); nothing may be pending."""
        self.objects: dict[str, dict[Any, models.Model | None]] = defaultdict(dict)
        self.members: dict[tuple[str, Any], set[Any]] = {}
        self.users: dict[str, Any] = {}
        self.creates: dict[str, list[models.Model]] = defaultdict(list)
        self.updates: dict[str, dict[Any, tuple[models.Model, set[str]]]] = defaultdict(dict)
        self.replaced: dict[tuple[str, Any], tuple[Linkable, models.Model, list[Any]]] = {}
        self._prefetch(lines)

    def _prefetch(self, lines: list[Line]) -> None:
        wanted: dict[str, set[Any]] = defaultdict(set)
        emails: set[str] = set()
        for line in lines:
            wanted[line.linkable.name].add(line.key)
            if line.parent is not None:
                wanted[line.linkable.provisioning.parent.linkable].add(line.parent)
            emails.update(line.members or ())
        for name, keys in wanted.items():
            self._fetch(REGISTRY[name], keys)
        for name, by_key in self.objects.items():
            linkable = REGISTRY[name]
            if linkable.provisioning.members:
                self._fetch_members(linkable, [o for o in by_key.values() if o is not None])
        emails -= {email for email, user in self.objects.get("ACCOUNT_USER", {}).items() if user}
        self.users = dict(User.objects.filter(email__in=emails).values_list("email", "pk"))
        for email, user in self.objects.get("ACCOUNT_USER", {}).items():
            if user is not None:
                self.users[email] = user.pk

    def _fetch(self, linkable: Linkable, keys: Iterable[Any]) -> None:
        name = object_field(linkable)
        keys = [key for key in keys if key not in self.objects[linkable.name]]
        found = {
            getattr(obj, name): obj
            for obj in linkable.model.objects.filter(**{f"{name}__in": keys}).order_by()
        }
        for key in keys:
            self.objects[linkable.name][key] = found.get(key)

    def _fetch_members(self, linkable: Linkable, objects: list[models.Model]) -> None:
        relation = linkable.model._meta.get_field(linkable.provisioning.members)
        through = relation.remote_field.through
        source, target = relation.m2m_field_name(), relation.m2m_reverse_field_name()
        for obj in objects:
            self.members.setdefault((linkable.name, obj.pk), set())
        rows = through.objects.filter(**{f"{source}__in": [o.pk for o in objects]})
        for owner, user in rows.values_list(f"{source}_id", f"{target}_id"):
            self.members[(linkable.name, owner)].add(user)

    def get(self, linkable: Linkable, key: Any) -> models.Model | None:
        if key not in self.objects[linkable.name]:
            self._fetch(linkable, [key])
            obj = self.objects[linkable.name][key]
            if obj is not None and linkable.provisioning.members:
                self._fetch_members(linkable, [obj])
        return self.objects[linkable.name][key]

    def user_pk(self, email: str) -> Any:
        if email not in self.users:
            user = self.get(REGISTRY["ACCOUNT_USER"], email)
            self.users[email] = user.pk if user is not None else None
        return self.users[email]

    def flush(self) -> None:
        """Write what is pending: creations (parents first), updates, then memberships."""
        for linkable in _creation_order():
            created = self.creates.pop(linkable.name, [])
            if created:
                linkable.model.objects.bulk_create(created)
                if linkable.identifier_field == "pk":
                    _follow_sequence(linkable.model)
        for name, pending in list(self.updates.items()):
            linkable = REGISTRY[name]
            changed = [obj for obj, _ in pending.values()]
            fields = sorted(set().union(*(names for _, names in pending.values())))
            if linkable.provisioning.save_each:
                for obj, names in pending.values():
                    obj.save(update_fields=sorted(names))
            else:
                # An upsert of rows known to exist: one INSERT ... ON CONFLICT DO UPDATE, where
                # bulk_update builds a CASE per field and row (5x slower, `make bench-import`).
                linkable.model.objects.bulk_create(
                    changed,
                    update_conflicts=True,
                    unique_fields=[linkable.model._meta.pk.name],
                    update_fields=fields,
                )
        self.updates.clear()
        by_type: dict[str, list[tuple[models.Model, list[Any]]]] = defaultdict(list)
        for linkable, obj, users in self.replaced.values():
            by_type[linkable.name].append((obj, users))
        for name, replaced in by_type.items():
            relation = REGISTRY[name].model._meta.get_field(REGISTRY[name].provisioning.members)
            through = relation.remote_field.through
            source, target = relation.m2m_field_name(), relation.m2m_reverse_field_name()
            through.objects.filter(**{f"{source}__in": [obj.pk for obj, _ in replaced]}).delete()
            through.objects.bulk_create(
                [
                    through(**{f"{source}_id": obj.pk, f"{target}_id": user})
                    for obj, users in replaced
                    for user in users
                ]
            )
        self.replaced.clear()
