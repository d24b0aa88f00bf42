"""ALTER TABLE ... ADD [CONSTRAINT name] PRIMARY KEY (cols): rebuild a table under a new key.

A table without a primary key is keyed by a hidden int8 row id. Adding a primary key rewrites
every row keyed by the new key columns, as PostgreSQL's pgbench -i expects (it loads the data
first and adds the keys after). The rebuild happens inside the DDL statement's transaction:

  1. the table gets a new object id (the 4-byte key prefix of its rows) and its secondary
     indexes new ids, so the rebuilt rows never mix with the old ones; the old rows stay in
     storage unreachable, exactly like the rows of a dropped table (ids are never reused);
  2. each old row is read at the transaction's snapshot, in batches of BATCH_ROWS, checked
     (a NULL in a key column: 23502; two rows with the same key: 23505) and written under
     the new key with the current layout; index entries are written for the new ids;
  3. the new catalog (version + 1) commits with the rows, or nothing does.

The table's oid (its object id) therefore changes, as its relfilenode would in PostgreSQL.
The rewritten rows count against the transaction limits (54000 past them). A concurrent
transaction that wrote to the old table fails at COMMIT with OC001 (its catalog is stale).

Invariants:
  1. On any error the catalog and the rows are unchanged (nothing is committed).
  2. Every row of the old table is written exactly once under the new id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dsql.adjudicator import Kind
from dsql.catalog.layout import IndexCodec, TableCodec
from dsql.catalog.objects import Catalog, Table
from dsql.errors import DsqlError
from dsql.sql.bulk import gc_paused
from dsql.sql.errors import (
    DuplicateColumn,
    DuplicateTable,
    NotNullViolation,
    UndefinedColumn,
    UniqueViolation,
)

if TYPE_CHECKING:
    from dsql.sql.plan import ExecContext

BATCH_ROWS = 4096
ROWS_MAX = 1 << 40  # a bound on the copy loop


class InvalidTableDefinition(DsqlError):
    sqlstate = "42P16"  # invalid_table_definition


def add_primary_key(cat: Catalog, table: Table, names: list[str], constraint: str | None,
                    ec: ExecContext) -> None:
    """Rebuilds `table` (an entry of the catalog copy `cat`) keyed by the columns `names`.

    REQUIRES: `cat` is the DDL statement's private copy of the transaction's catalog.
    """
    assert cat.tables.get(table.id) is table
    if table.pk:
        raise InvalidTableDefinition(f'multiple primary keys for table "{table.name}" are not '
                                     "allowed")
    ids: list[int] = []
    for n in names:
        c = table.column(n)
        if c is None:
            raise UndefinedColumn(f'column "{n}" of relation "{table.name}" does not exist')
        if c.id in ids:
            raise DuplicateColumn(f'column "{n}" appears twice in primary key constraint')
        ids.append(c.id)
    pk_name = constraint or f"{table.name}_pkey"
    if cat.relation_exists(table.schema, pk_name):
        raise DuplicateTable(f'relation "{pk_name}" already exists')
    from dsql.catalog.layout import codec_type
    for cid in ids:
        codec_type(table.columns[table.position(cid)].type)
    old_codec = TableCodec(table)
    old_id = table.id
    # the new definition: new ids, key columns NOT NULL, one layout of the other columns
    new_id = cat.allocate_id()
    del cat.tables[old_id]
    table.id = new_id
    table.pk = ids
    for c in table.columns:
        if c.id in ids:
            c.not_null = True
    table.layouts = [[c.id for c in table.columns if c.id not in ids]]
    cat.tables[new_id] = table
    for ix in cat.table_indexes(old_id):
        del cat.indexes[ix.id]
        ix.id = cat.allocate_id()
        ix.table_id = new_id
        cat.indexes[ix.id] = ix
    new_codec = TableCodec(table)
    new_indexes = [IndexCodec(ix, table, new_codec) for ix in cat.table_indexes(new_id)]
    with gc_paused():
        _copy_rows(ec, old_codec, new_codec, new_indexes, pk_name)
    assert old_id not in cat.tables and cat.tables[new_id] is table


def _copy_rows(ec: ExecContext, old: TableCodec, new: TableCodec, indexes: list[IndexCodec],
               pk_name: str) -> None:
    txn = ec.txn
    lo, hi = old.key_bounds()
    seen: set[bytes] = set()
    batch: list[tuple[bytes, bytes]] = []
    for n, pair in enumerate(txn.scan(lo, hi)):
        assert n < ROWS_MAX
        batch.append(pair)
        if len(batch) >= BATCH_ROWS:
            _write(txn, old.decode_many(batch), new, indexes, seen, pk_name)
            batch = []
    if batch:
        _write(txn, old.decode_many(batch), new, indexes, seen, pk_name)


def _write(txn: Any, rows: list[tuple[Any, ...]], new: TableCodec, indexes: list[IndexCodec],
           seen: set[bytes], pk_name: str) -> None:
    table = new.table
    pos = new.pk_positions
    key_of = new.key_of
    for r in rows:
        for p in pos:
            if r[p] is None:
                raise NotNullViolation(f'column "{table.columns[p].name}" of relation '
                                       f'"{table.name}" contains null values')
    keys = new.key_layout.encode_many([key_of(r) for r in rows])
    for k, r in zip(keys, rows, strict=True):
        if k in seen:
            names = ", ".join(table.columns[p].name for p in pos)
            vals = ", ".join(table.columns[p].type.output(r[p]) for p in pos)
            raise UniqueViolation(f'could not create unique index "{pk_name}"',
                                  detail=f"Key ({names})=({vals}) is duplicated.")
        seen.add(k)
    if new._needs_conv:
        values = [new.encode_value(r) for r in rows]
    else:
        value_of, prefix = new.value_of, new._prefix
        values = [prefix + v for v in new.row_layout.encode_many([value_of(r) for r in rows])]
    txn.put_many(list(zip(keys, values, strict=True)), Kind.FULL)
    for ic in indexes:
        txn.put_many([(ic.entry(r, k), b"") for r, k in zip(rows, keys, strict=True)], None,
                     row=False)
