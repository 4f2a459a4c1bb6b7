"""The hot statements, as literal SQL: every read and write of a document runs these.

A REST GET, a GraphQL `metadata` read and every write start with `READ`: one statement that
finds the object by its identifier, says whether the caller reaches it, states the caller's
own flags, and (for a read) carries the document. Writes then `lock` the object, read its
document under the lock (`DOCUMENT`), and `store` what changed: the rows, an audit entry per
key and one outbox event. Building these with the ORM per request cost several times what
the database does (`docs/benchmark.md`); the rest of the gateway is plain ORM.

Statements are templates filled once per (linkable type, database) with the type's table and
column names from the registry; every value is a named parameter. Where PostgreSQL and SQLite
differ, each has its own text. The tables named literally are checked against the models by
`tests/core/test_sql.py`. `reads`: the read; `writes`: the others; `batches`: a batch's reads.
"""
