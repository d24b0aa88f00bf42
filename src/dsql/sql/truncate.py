"""TRUNCATE: a data change, not DDL — every row is deleted as a write of the transaction.

    TRUNCATE [TABLE] [ONLY] name [*] [, ...] [RESTART IDENTITY | CONTINUE IDENTITY]
             [CASCADE | RESTRICT]

PostgreSQL's TRUNCATE swaps in new storage under an exclusive lock; dsql has no locks, so
TRUNCATE deletes each row (a FULL claim on its key, as DELETE) and each secondary-index entry,
in the transaction's write buffer. Hence `BEGIN; TRUNCATE t; INSERT INTO t ...; COMMIT` works,
a concurrent writer to one of those rows conflicts at COMMIT (40001) as with DELETE, and the
deleted rows count against the transaction limits (54000 past them). The catalog is not
touched, so TRUNCATE mixes with other DML in one transaction. Sequences are not stored, so
RESTART IDENTITY has nothing to restart.

Invariants:
  1. After TRUNCATE the transaction reads no row and no index entry of the truncated tables.
  2. Each table is truncated once even when named twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from dsql.adjudicator import Kind
from dsql.catalog.objects import Table
from dsql.sql.bulk import Cursor, Statement
from dsql.sql.plan import ExecContext, Outcome, Plan

if TYPE_CHECKING:
    from dsql.catalog.layout import IndexCodec, TableCodec
    from dsql.sql.select import Binder

class Truncate(Statement):
    kind = "dml"

    def __init__(self, names: list[tuple[str | None, str]]) -> None:
        assert names, "TRUNCATE names at least one table"
        self.names = names

    def bind(self, b: Binder) -> Plan:
        tables: list[tuple[TableCodec, list[IndexCodec]]] = []
        seen: set[int] = set()
        for schema, name in self.names:
            t: Table = b.table(exp.Table(this=exp.to_identifier(name),
                                         db=exp.to_identifier(schema) if schema else None))
            if t.id not in seen:
                seen.add(t.id)
                tables.append(b.codecs(t))
        return TruncatePlan(tables)


class TruncatePlan(Plan):
    kind = "dml"

    def __init__(self, tables: list[tuple[TableCodec, list[IndexCodec]]]) -> None:
        self.tables = tables

    def execute(self, ec: ExecContext) -> Outcome:
        txn = ec.txn
        for codec, indexes in self.tables:
            lo, hi = codec.key_bounds()
            _delete_range(txn, lo, hi, Kind.FULL, True)
            for ic in indexes:
                ilo, ihi = ic.layout.prefix_bounds(())
                _delete_range(txn, ilo, ihi, None, False)
        return Outcome([], "TRUNCATE TABLE")


def _delete_range(txn: object, lo: bytes, hi: bytes, kind: Kind | None, row: bool) -> None:
    """Deletes every live key in [lo, hi) as seen by the transaction."""
    assert lo < hi
    put = txn.put  # type: ignore[attr-defined]
    # the keys first: the merged scan must not see the buffer change under it
    keys = [k for k, _ in txn.scan(lo, hi)]  # type: ignore[attr-defined]
    for k in keys:
        put(k, None, kind, row=row)
    assert all(k < hi for k in keys[-1:])


def parse_truncate(c: Cursor) -> Truncate:
    c.accept("table")
    names: list[tuple[str | None, str]] = []
    while True:
        c.accept("only")
        names.append(c.qualified_name())
        c.accept_op("*")
        if not c.accept_op(","):
            break
    while not c.at_end():
        if c.accept("restart", "continue"):
            if not c.accept("identity"):
                c.fail()
        elif not c.accept("cascade", "restrict"):
            c.fail()
    return Truncate(names)
