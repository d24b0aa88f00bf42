"""SAVEPOINT / RELEASE SAVEPOINT / ROLLBACK TO SAVEPOINT over a transaction's write buffer.

dsql buffers every write of a transaction in memory until COMMIT (dsql.txn.transaction), so a
savepoint is a copy of that buffer's bookkeeping (writes, claims, modified rows, byte count,
DDL state), and rolling back to it restores the copy. Drivers rely on this: psycopg's
TypeInfo.fetch (run by SQLAlchemy at connect) wraps a catalog query that may fail in a
savepoint inside the caller's transaction. The copy is bounded by the transaction limits
(3,000 rows, 10 MiB by default), and at most SAVEPOINTS_MAX savepoints are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dsql.errors import DsqlError

SAVEPOINTS_MAX = 64


@dataclass
class Savepoint:
    name: str
    writes: dict[bytes, Any]
    claims: dict[bytes, Any]
    rows: set[bytes]
    bytes_: int
    ddl: bool
    dml: bool
    new_catalog: Any
    catalog: Any
    # the session's settings at the savepoint, and those its COMMIT would keep (set by the
    # session: ROLLBACK TO SAVEPOINT undoes SETs too)
    settings: dict[str, str] | None = None
    settings_after: dict[str, str] | None = None


def take(txn: Any, name: str) -> Savepoint:
    return Savepoint(name, dict(txn.writes), dict(txn.claims), set(txn.rows), txn.bytes,
                     txn.ddl, txn.dml, txn.new_catalog, txn.catalog)


def restore(txn: Any, sp: Savepoint) -> None:
    txn.writes = dict(sp.writes)
    txn.claims = dict(sp.claims)
    txn.rows = set(sp.rows)
    txn.bytes = sp.bytes_
    txn.ddl, txn.dml = sp.ddl, sp.dml
    txn.new_catalog, txn.catalog = sp.new_catalog, sp.catalog
    txn._sorted = None
    assert txn.bytes >= 0


def find(stack: list[Savepoint], name: str) -> int:
    """Index of the newest savepoint called `name`; 3B001 when there is none."""
    for i in range(len(stack) - 1, -1, -1):
        if stack[i].name == name:
            return i
    raise DsqlError(f'savepoint "{name}" does not exist', sqlstate="3B001")


def push(stack: list[Savepoint], sp: Savepoint) -> None:
    if len(stack) >= SAVEPOINTS_MAX:
        raise DsqlError(f"too many savepoints (at most {SAVEPOINTS_MAX})", sqlstate="54000")
    stack.append(sp)
