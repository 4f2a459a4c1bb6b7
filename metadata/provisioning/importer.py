"""Applying provisioning lines in order, in batches, each line standing alone.

Each batch is one transaction; should the database refuse its writes, the batch is applied
again with a savepoint per line, so the failure stays the failing line's. A retiring line
deletes the object's metadata through `metadata.services` (audit entries and change events
as for any delete), then the object.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from django.db import DatabaseError, models, transaction

from metadata import services
from metadata.linkables import REGISTRY, Linkable, Target, all_linkables
from metadata.models import Metadata, WriteContext
from metadata.provisioning.batch import Batch, object_field
from metadata.provisioning.lines import Line, LineError, parse_line
from metadata.provisioning.summary import CREATED, RETIRED, UNCHANGED, UPDATED, Failure, Summary
from metadata.selectors import content_type_for

BATCH_SIZE = 1000
MSG_STORE_FAILED = "the database refused the change (a conflicting change?); send the line again"


def children(linkable: Linkable) -> list[Linkable]:
    """The types whose objects hang on `linkable`'s (retired before it)."""
    return [
        child
        for child in all_linkables()
        if child.provisioning.parent and child.provisioning.parent.linkable == linkable.name
    ]


class Importer:
    """Applies provisioning lines in order and keeps their summary.

    `context` is who provisions, recorded on the audit entries and events of retirements.
    """

    def __init__(self, *, context: WriteContext, batch_size: int = BATCH_SIZE) -> None:
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
        batch = Batch(lines)
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
                batch = Batch([])  # what was fetched may be stale now
                continue
            if savepoint:
                transaction.savepoint_commit(savepoint)
            outcomes.append(outcome)
        batch.flush()
        return outcomes

    def _line(self, line: Line, batch: Batch) -> str:
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
            obj = linkable.model(**{object_field(linkable): line.key, **line.values})
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
        for child in children(linkable):
            below = child.model.objects.filter(**{child.provisioning.parent.field: obj.pk})
            if not children(child):  # those without metadata simply go with it
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
    context: WriteContext,
    progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> Summary:
    """Apply provisioning lines in order; the summary of what each did."""
    return Importer(context=context, batch_size=batch_size).run(lines, progress=progress)
