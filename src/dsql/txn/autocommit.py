"""The autocommit single-row UPDATE by primary key, without a Transaction object.

`UPDATE t SET ... WHERE pk = $1` outside a transaction block is the commonest durable write;
its general path builds a Transaction, an execution context, a write buffer and an outcome for
one row. This path does the same work directly: read the row at the snapshot, compute the new
row, check it, encode it, and commit one write with the same claims the general path makes
(the row key NONKEY, the catalog key KEYSHARE) through Node.commit_one (one crossing into C++
for the whole commit). The plan decides when it applies (dml.plan_update sets `point_update`
only for: a primary-key point get, no RETURNING, no secondary index, no primary-key column
assigned, a table with a primary key); the session uses it only for a cached plan whose
catalog version is the snapshot's.

Thread-safety: as the session calling it (one thread per session).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from dsql.adjudicator import CommitConflict, Kind
from dsql.catalog.store import CATALOG_KEY
from dsql.sql.errors import SchemaConflict

if TYPE_CHECKING:
    from dsql.engine import Database
    from dsql.txn.limits import Limits

_NONKEY = int(Kind.NONKEY)


def point_update(db: Database, start_ts: int, catalog_version: int, parts: tuple[Any, ...],
                 params: Sequence[Any], limits: Limits) -> int:
    """Runs the update at snapshot `start_ts`; returns the rows updated (0 or 1).

    REQUIRES: `parts` = (PointGet access, [(position, fn)] assignments, [filter fn], writer)
    from dsql.sql.dml.plan_update, bound against catalog `catalog_version` (the snapshot's)."""
    access, sets, filters, writer = parts
    assert access.kind == "point" and start_ts > 0
    key = access.key(params)
    if key is None:
        return 0
    node = db.node
    raw = node.get(key, start_ts)
    if raw is None:
        return 0
    codec = access.codec
    old = codec.decode(key, raw)
    f: Callable[..., Any]
    for f in filters:
        if f(old, params) is not True:
            return 0
    new = list(old)
    for pos, f in sets:
        new[pos] = f(old, params)
    row = tuple(new)
    if writer.checks_nonkey:  # (the key columns are the stored row's: never NULL)
        writer.check(row)
    value = codec.encode_value(row)
    nbytes = len(key) + len(value)
    if limits.max_rows < 1 or nbytes > limits.max_bytes:  # (the checks, without two calls)
        limits.check_rows(1)
        limits.check_bytes(nbytes)
    try:
        commit_ts = node.commit_one(start_ts, key, value, _NONKEY, CATALOG_KEY)
    except CommitConflict:
        if db.catalogs.latest.version != catalog_version:
            raise SchemaConflict() from None
        raise
    db.note_commit(commit_ts)
    assert commit_ts > start_ts
    return 1
