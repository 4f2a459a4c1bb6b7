"""Provisioning: the linkable objects, fed by the platform's system of record (contract §13).

One object per JSON line. A line creates or updates its object (idempotently: the same line
twice changes nothing the second time; a `users` list replaces the memberships) or, with
`"retired": true`, retires it: its metadata is deleted through `metadata.services` (audit
entries and change events as for any delete), then the object, which answers as missing from
then on. What each type's line carries comes from the registry (`Linkable.provisioning`), so
a new linkable type is one registry entry.

Every line stands alone: a line that is malformed, names an unknown parent or user, or is not
provisioning's to change fails alone, with its line number and reason, and changes nothing.
For throughput (10^5 lines in well under a minute) lines are applied in batches: each batch
is one transaction whose lines are checked one by one in Python against objects fetched
for the whole batch, and written with bulk statements. Should the database refuse a batch's
writes, the batch is applied again with a savepoint per line, so the failure stays the
failing line's. Re-running an interrupted import is safe: lines are idempotent.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import DatabaseError, connections, models, router, transaction

from metadata import services
from metadata.errors import NotJSON, PermissionDenied, RuleViolation
from metadata.linkables import REGISTRY, Linkable, Target, all_linkables
from metadata.models import ClientKind, Metadata, PartnerClient, User
from metadata.principals import Principal
from metadata.rules import parse_json
from metadata.selectors import content_type_for

MAX_REQUEST_LINES = 10_000
MAX_REQUEST_BYTES = 4 * 1024 * 1024
BATCH_SIZE = 1000

CREATED, UPDATED, RETIRED, UNCHANGED = "created", "updated", "retired", "unchanged"
MEMBERS_KEY = "users"
MSG_NOT_PROVISIONING = (
    "Only a provisioning client's token (client_credentials of a client marked for "
    "provisioning) may provision objects."
)
MSG_STORE_FAILED = "the database refused the change (a conflicting change?); send the line again"


class LineError(Exception):
    """Why one line was not applied; said to the caller as it is."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Failure:
    line: int
    reason: str


@dataclass
class Summary:
    created: int = 0
    updated: int = 0
    retired: int = 0
    unchanged: int = 0
    failed: list[Failure] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    @property
    def lines(self) -> int:
        return self.created + self.updated + self.retired + self.unchanged + len(self.failed)

    def as_dict(self) -> dict[str, Any]:
        return {
            CREATED: self.created,
            UPDATED: self.updated,
            RETIRED: self.retired,
            UNCHANGED: self.unchanged,
            "failed": [{"line": f.line, "reason": f.reason} for f in self.failed],
        }


def provisioning_client(principal: Principal) -> PartnerClient:
    """The provisioning client whose `client_credentials` token this is, or 403."""
    client = None
    if principal.client_id is not None:
        client = PartnerClient.objects.filter(
            pk=principal.client_id,
            kind=ClientKind.PROVISIONING,
            user_id=principal.user_id,
            user__is_active=True,
        ).first()
    if client is None:
        raise PermissionDenied(MSG_NOT_PROVISIONING)
    return client


# Parsing one line (pure: no database) --------------------------------------------------------


@dataclass(frozen=True)
class Line:
    number: int
    linkable: Linkable
    identifier: str
    key: Any  # the identifier as its model field holds it
    retired: bool
    values: dict[str, Any]  # model field -> value, for the attributes the line carries
    parent: Any  # the parent's identifier as its model field holds it, or None
    parent_identifier: str | None
    members: tuple[str, ...] | None  # emails, when the line carries `users`


def _type_names() -> str:
    return ", ".join(REGISTRY)


def _identifier(linkable: Linkable, raw: Any, what: str) -> tuple[str, Any]:
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str):
        raise LineError(f"{what} must be a string: a {linkable.name} identifier")
    try:
        key = linkable.parse_identifier(raw)
    except ValueError as error:
        raise LineError(
            f"{what} {raw[:100]!r} is not a {linkable.name} identifier "
            f"(a {linkable.identifier_kind})"
        ) from error
    meta = linkable.model._meta
    if linkable.identifier_field != "pk":
        limit = meta.get_field(linkable.identifier_field).max_length
        if limit and len(raw) > limit:
            raise LineError(f"{what} is {len(raw)} characters; the limit is {limit}")
    check = linkable.provisioning.identifier_check
    if check is not None:
        try:
            check(raw)
        except ValidationError as error:
            raise LineError(f"{what} {raw[:100]!r} is not a valid {linkable.name} id") from error
    return raw, key


def _string(linkable: Linkable, name: str, model_field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise LineError(f"{name} must be a string")
    if "\x00" in value:
        raise LineError(f"{name} must not contain the NUL character (U+0000)")
    limit = linkable.model._meta.get_field(model_field).max_length
    if limit and len(value) > limit:
        raise LineError(f"{name} is {len(value)} characters; the limit is {limit}")
    return value


def parse_line(number: int, text: str | bytes) -> Line:
    """One line, checked against its type's registry entry; `LineError` says what is wrong."""
    try:
        data = _parse_json(text)
    except (NotJSON, RuleViolation) as error:
        raise LineError(error.message) from error
    if not isinstance(data, dict):
        raise LineError('a line is a JSON object: {"type": ..., "id": ..., ...}')
    type_name = data.get("type")
    linkable = REGISTRY.get(type_name) if isinstance(type_name, str) else None
    if linkable is None:
        raise LineError(f"type must be one of {_type_names()}")
    if "id" not in data:
        raise LineError("id is missing")
    identifier, key = _identifier(linkable, data["id"], "id")
    spec = linkable.provisioning
    retired = data.get("retired", False)
    if not isinstance(retired, bool):
        raise LineError("retired must be true or false")
    if retired:
        extra = sorted(set(data) - {"type", "id", "retired"})
        if extra:
            raise LineError(f"a retiring line carries only type, id and retired; not {extra}")
        return Line(number, linkable, identifier, key, True, {}, None, None, None)
    allowed = {"type", "id", "retired", *(a.key for a in spec.attributes)}
    if spec.parent:
        allowed.add(spec.parent.key)
    if spec.members:
        allowed.add(MEMBERS_KEY)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise LineError(
            f"{linkable.name} lines carry {', '.join(sorted(allowed))}; not {', '.join(unknown)}"
        )
    values: dict[str, Any] = {}
    for attribute in spec.attributes:
        if attribute.key not in data:
            continue
        value = data[attribute.key]
        if attribute.kind is bool:
            if not isinstance(value, bool):
                raise LineError(f"{attribute.key} must be true or false")
        else:
            value = _string(linkable, attribute.key, attribute.field, value)
            if attribute.required and not value.strip():
                raise LineError(f"{attribute.key} must not be empty")
        values[attribute.field] = value
    parent = parent_identifier = None
    if spec.parent and spec.parent.key in data:
        parent_identifier, parent = _identifier(
            REGISTRY[spec.parent.linkable], data[spec.parent.key], spec.parent.key
        )
    members = None
    if spec.members and MEMBERS_KEY in data:
        members = _members(data[MEMBERS_KEY])
    return Line(
        number, linkable, identifier, key, False, values, parent, parent_identifier, members
    )


def _parse_json(text: str | bytes) -> Any:
    return parse_json(text, message="the line is not JSON: {reason}")


def _members(value: Any) -> tuple[str, ...]:
    users = REGISTRY["ACCOUNT_USER"]
    if not isinstance(value, list):
        raise LineError(f"{MEMBERS_KEY} must be a list of email addresses")
    emails = [_identifier(users, email, MEMBERS_KEY)[1] for email in value]
    return tuple(dict.fromkeys(emails))


# Applying lines ------------------------------------------------------------------------------


def _object_field(linkable: Linkable) -> str:
    """The model field a line's id sets: the primary key's name, or the identifier field."""
    if linkable.identifier_field == "pk":
        return linkable.model._meta.pk.name
    return linkable.identifier_field


def _children(linkable: Linkable) -> list[Linkable]:
    return [
        child
        for child in all_linkables()
        if child.provisioning.parent and child.provisioning.parent.linkable == linkable.name
    ]


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


class _Batch:
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
        name = _object_field(linkable)
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


class Importer:
    """Applies provisioning lines in order and keeps their summary.

    `context` is who provisions, recorded on the audit entries and events of retirements.
    """

    def __init__(self, *, context: services.WriteContext, batch_size: int = BATCH_SIZE) -> None:
        self.context = context
        self.batch_size = batch_size
        self.summary = Summary()

    def run(
        self,
        lines: Iterable[str | bytes],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> Summary:
        batch: list[tuple[int, str | bytes]] = []
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue  # blank lines (a trailing newline) are no lines
            batch.append((number, text))
            if len(batch) >= self.batch_size:
                self._batch(batch, progress)
                batch = []
        if batch:
            self._batch(batch, progress)
        self.summary.failed.sort(key=lambda failure: failure.line)
        return self.summary

    def _batch(
        self, texts: list[tuple[int, str | bytes]], progress: Callable[[int], None] | None
    ) -> None:
        lines: list[Line] = []
        for number, text in texts:
            try:
                lines.append(parse_line(number, text))
            except LineError as error:
                self.summary.failed.append(Failure(number, error.reason))
        try:
            with transaction.atomic():
                outcomes = self._apply(lines, line_by_line=False)
        except DatabaseError:
            with transaction.atomic():
                outcomes = self._apply(lines, line_by_line=True)
        for outcome in outcomes:
            if isinstance(outcome, Failure):
                self.summary.failed.append(outcome)
            else:
                self.summary.count(outcome)
        if progress is not None:
            progress(len(texts))

    def _apply(self, lines: list[Line], *, line_by_line: bool) -> list[str | Failure]:
        batch = _Batch(lines)
        outcomes: list[str | Failure] = []
        for line in lines:
            savepoint = transaction.savepoint() if line_by_line else None
            try:
                outcome = self._line(line, batch)
                if line_by_line:
                    batch.flush()
            except LineError as error:
                if savepoint:
                    transaction.savepoint_rollback(savepoint)
                outcomes.append(Failure(line.number, error.reason))
                continue
            except DatabaseError:
                if not line_by_line:
                    raise
                transaction.savepoint_rollback(savepoint)
                outcomes.append(Failure(line.number, MSG_STORE_FAILED))
                batch = _Batch([])  # what was fetched may be stale now
                continue
            if savepoint:
                transaction.savepoint_commit(savepoint)
            outcomes.append(outcome)
        batch.flush()
        return outcomes

    def _line(self, line: Line, batch: _Batch) -> str:
        linkable, spec = line.linkable, line.linkable.provisioning
        obj = batch.get(linkable, line.key)
        if obj is not None and obj.pk is not None and spec.refuse:
            reason = spec.refuse(obj)
            if reason:
                raise LineError(reason)
        if line.retired:
            if obj is None:
                return UNCHANGED
            batch.flush()  # earlier lines first: the retirement reads and deletes rows
            self._retire(linkable, obj)
            batch.reset([])  # the objects below it went with it
            return RETIRED
        parent_pk = None
        if line.parent is not None:
            parent_linkable = REGISTRY[spec.parent.linkable]
            parent = batch.get(parent_linkable, line.parent)
            if parent is None:
                raise LineError(
                    f"unknown {parent_linkable.name} {line.parent_identifier}: "
                    "provision it first (an earlier line or import)"
                )
            if parent.pk is None:
                batch.flush()  # made by an earlier line of this batch; its key is needed now
            parent_pk = parent.pk
        members = None
        if line.members is not None:
            members = [batch.user_pk(email) for email in line.members]
            unknown = [email for email, pk in zip(line.members, members, strict=True) if not pk]
            if unknown:
                raise LineError(f"unknown ACCOUNT_USER {', '.join(unknown)}: provision them first")
        if obj is None:
            missing = [a.key for a in spec.attributes if a.required and a.field not in line.values]
            if spec.parent and parent_pk is None:
                missing.insert(0, spec.parent.key)
            if missing:
                raise LineError(f"a new {linkable.name} needs {', '.join(missing)}")
            obj = linkable.model(**{_object_field(linkable): line.key, **line.values})
            if spec.parent:
                setattr(obj, obj._meta.get_field(spec.parent.field).attname, parent_pk)
            if spec.new:
                spec.new(obj)
            batch.objects[linkable.name][line.key] = obj
            batch.creates[linkable.name].append(obj)
            if linkable.name == "ACCOUNT_USER":
                batch.users[line.key] = obj.pk
            outcome = CREATED
        else:
            changed = {name for name, value in line.values.items() if getattr(obj, name) != value}
            if spec.parent and parent_pk is not None:
                attname = obj._meta.get_field(spec.parent.field).attname
                if getattr(obj, attname) != parent_pk:
                    changed.add(attname)
                    setattr(obj, attname, parent_pk)
            for name in changed & set(line.values):
                setattr(obj, name, line.values[name])
            outcome = UNCHANGED
            if changed:
                if obj.pk is not None and obj not in batch.creates[linkable.name]:
                    _, before = batch.updates[linkable.name].get(obj.pk, (obj, set()))
                    batch.updates[linkable.name][obj.pk] = (obj, before | changed)
                outcome = UPDATED
        if members is not None:
            if obj.pk is None:
                batch.flush()
            current = batch.members.get((linkable.name, obj.pk), set())
            if set(members) != current:
                batch.members[(linkable.name, obj.pk)] = set(members)
                batch.replaced[(linkable.name, obj.pk)] = (linkable, obj, members)
                if outcome == UNCHANGED:
                    outcome = UPDATED
        return outcome

    def _retire(self, linkable: Linkable, obj: models.Model) -> None:
        """Objects below it first, then its metadata through the services, then it."""
        for child in _children(linkable):
            below = child.model.objects.filter(**{child.provisioning.parent.field: obj.pk})
            if not _children(child):  # those without metadata simply go with it
                pks = list(below.values_list("pk", flat=True))
                carrying = set(
                    Metadata.objects.filter(
                        content_type=content_type_for(child),
                        object_id__in=[str(pk) for pk in pks],
                    ).values_list("object_id", flat=True)
                )
                below = below.filter(pk__in=[pk for pk in pks if str(pk) in carrying])
            for grandchild in below:
                self._retire(child, grandchild)
        entity = getattr(obj, linkable.entity_field) if linkable.entity_field else None
        target = Target(
            linkable=linkable,
            pk=obj.pk,
            identifier=linkable.identifier_of(obj),
            entity_id=entity if isinstance(entity, uuid.UUID) else None,
            reachable=True,
        )
        services.replace_document(target=target, document={}, context=self.context)
        obj.delete()


def import_lines(
    lines: Iterable[str | bytes],
    *,
    context: services.WriteContext,
    progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> Summary:
    """Apply provisioning lines in order; the summary of what each did."""
    return Importer(context=context, batch_size=batch_size).run(lines, progress=progress)
