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

The package: `lines` parses one line (no database), `batch` fetches what a batch of lines
touches and writes what they change, `importer` applies lines in order and `summary` counts
what each did; `access` says who may provision.
"""

from __future__ import annotations

from metadata.provisioning.access import MSG_NOT_PROVISIONING, provisioning_client
from metadata.provisioning.importer import BATCH_SIZE, Importer, import_lines
from metadata.provisioning.lines import MEMBERS_KEY, Line, LineError, parse_line
from metadata.provisioning.summary import CREATED, RETIRED, UNCHANGED, UPDATED, Failure, Summary

# What one request may carry (the REST door's route, contract section 13).
MAX_REQUEST_LINES = 10_000
MAX_REQUEST_BYTES = 4 * 1024 * 1024

__all__ = [
    "BATCH_SIZE",
    "CREATED",
    "MAX_REQUEST_BYTES",
    "MAX_REQUEST_LINES",
    "MEMBERS_KEY",
    "MSG_NOT_PROVISIONING",
    "RETIRED",
    "UNCHANGED",
    "UPDATED",
    "Failure",
    "Importer",
    "Line",
    "LineError",
    "Summary",
    "import_lines",
    "parse_line",
    "provisioning_client",
]
