"""INSERT (VALUES, SELECT, DEFAULT, ON CONFLICT, RETURNING), UPDATE and DELETE.

Writes go to the transaction's buffer with their claims: a new or deleted row, or a changed
primary key, claims its row key FULL; an update of other columns claims it NONKEY; a new value
in a UNIQUE index claims that index's guard key FULL (so of two transactions inserting the
same unique value, only the first to commit succeeds). Uniqueness and constraints are checked
at write time against the snapshot merged with the transaction's own writes, with
PostgreSQL's messages: 23505 duplicate key, 23502 not-null, 23514 check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlglot import exp

from dsql.adjudicator import Kind
from dsql.catalog.layout import IndexCodec, TableCodec
from dsql.catalog.objects import Table
from dsql.errors import FeatureNotSupported, SqlSyntaxError
from dsql.sql import casts
from dsql.sql.access import choose_access, conjuncts
from dsql.sql.errors import (
    CheckViolation,
    DuplicateColumn,
    InvalidColumnReference,
    NotNullViolation,
    UndefinedColumn,
    UniqueViolation,
)
from dsql.sql.expr import Bound, Compiler
from dsql.sql.plan import ExecContext, OutColumn, Outcome, Plan
from dsql.sql.scope import Scope
from dsql.sql.select import Binder, plan_query

Row = tuple[Any, ...]
BULK_ROWS_MIN = 64  # larger INSERTs without ON CONFLICT / RETURNING write in batches
BULK_BATCH_ROWS = 4096


def _parse_expr(sql: str) -> exp.Expression:
    import sqlglot
    from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
    return normalize_identifiers(sqlglot.parse_one(sql, dialect="postgres"), dialect="postgres")


class TableWriter:
    """Constraint checks and the writes of one table's rows, shared by INSERT/UPDATE/DELETE."""

    def __init__(self, b: Binder, table: Table) -> None:
        self.table = table
        self.codec, self.indexes = b.codecs(table)
        self.types = self.codec.types
        self.ctx = b.compiler.ctx
        scope = Scope()
        scope.add_relation(table.name, [(c.name, c.type) for c in table.columns], table.id)
        self.scope = scope
        comp = b.compiler.with_scope(scope)
        self.checks = [(c.name, comp.boolean(_parse_expr(c.sql), "CHECK").fn)
                       for c in table.checks]
        b.volatile |= comp.volatile
        self.not_null = [i for i, c in enumerate(table.columns) if c.not_null]
        self.pk_names = [table.columns[i].name for i in self.codec.pk_positions]
        self.outs = [t.output_fn(self.ctx) for t in self.types]
        self.rowid = b.catalog  # placeholder, replaced by the session's database
        self.uniques = [ic for ic in self.indexes if ic.index.unique]

    def _fmt(self, row: Row, positions: Sequence[int]) -> str:
        return ", ".join("null" if row[i] is None else self.outs[i](row[i]) for i in positions)

    def check(self, row: Row) -> None:
        for i in self.not_null:
            if row[i] is None:
                raise NotNullViolation(
                    f'null value in column "{self.table.columns[i].name}" of relation '
                    f'"{self.table.name}" violates not-null constraint',
                    detail=f"Failing row contains ({self._fmt(row, range(len(row)))}).")
        for name, fn in self.checks:
            if fn(row, ()) is False:
                raise CheckViolation(
                    f'new row for relation "{self.table.name}" violates check constraint '
                    f'"{name}"',
                    detail=f"Failing row contains ({self._fmt(row, range(len(row)))}).")

    def key_of(self, ec: ExecContext, row: Row) -> bytes:
        if self.codec.hidden_rowid:
            return self.codec.encode_key(row, ec.txn.db.next_rowid())
        return self.codec.encode_key(row)

    def conflict(self, ec: ExecContext, row: Row, key: bytes,
                 skip_pk: bool = False) -> tuple[str, bytes] | None:
        """The first unique constraint the row would violate: (constraint name, existing key)."""
        if not skip_pk and not self.codec.hidden_rowid and ec.txn.get(key) is not None:
            return f"{self.table.name}_pkey", key
        for ic in self.uniques:
            g = ic.guard(row)
            if g is None:
                continue
            lo, hi = ic.guard_layout.prefix_bounds(ic.indexed(row))
            for k, _ in ec.txn.scan(lo, hi):
                other = ic.pk_of_entry(k)
                if other != key:
                    return ic.index.name, other
        return None

    def duplicate(self, name: str, row: Row) -> UniqueViolation:
        if name == f"{self.table.name}_pkey":
            cols = self.codec.pk_positions
        else:
            ic = next(i for i in self.uniques if i.index.name == name)
            cols = ic.positions
        names = ", ".join(self.table.columns[i].name for i in cols)
        return UniqueViolation(f'duplicate key value violates unique constraint "{name}"',
                               detail=f"Key ({names})=({self._fmt(row, cols)}) already exists.")

    def insert(self, ec: ExecContext, row: Row, key: bytes) -> None:
        txn = ec.txn
        txn.put(key, self.codec.encode_value(row), Kind.FULL)
        for ic in self.indexes:
            txn.put(ic.entry(row, key), b"", None, row=False)
            if ic.index.unique:
                g = ic.guard(row)
                if g is not None:
                    txn.claim(g, Kind.FULL)

    def delete(self, ec: ExecContext, row: Row, key: bytes) -> None:
        txn = ec.txn
        txn.put(key, None, Kind.FULL)
        for ic in self.indexes:
            txn.put(ic.entry(row, key), None, None, row=False)

    def update(self, ec: ExecContext, old: Row, new: Row, key: bytes) -> bytes:
        """Writes `new` over `old`; returns the row's key (new when the key changed)."""
        txn = ec.txn
        newkey = key if self.codec.hidden_rowid else self.codec.encode_key(new)
        if newkey != key:
            hit = self.conflict(ec, new, newkey)
            if hit is not None:
                raise self.duplicate(hit[0], new)
            self.delete(ec, old, key)
            self.insert(ec, new, newkey)
            return newkey
        for ic in self.uniques:
            if ic.indexed(old) != ic.indexed(new):
                hit = self.conflict(ec, new, key, skip_pk=True)
                if hit is not None:
                    raise self.duplicate(hit[0], new)
                break
        txn.put(key, self.codec.encode_value(new), Kind.NONKEY)
        for ic in self.indexes:
            if ic.indexed(old) != ic.indexed(new):
                txn.put(ic.entry(old, key), None, None, row=False)
                txn.put(ic.entry(new, key), b"", None, row=False)
                if ic.index.unique and (g := ic.guard(new)) is not None:
                    txn.claim(g, Kind.FULL)
        return key


def _returning(b: Binder, node: exp.Expression, scope: Scope
               ) -> tuple[list[OutColumn], list[Bound]] | None:
    ret = node.args.get("returning")
    if ret is None:
        return None
    comp = b.compiler.with_scope(scope)
    cols, bounds = [], []
    for e in ret.expressions:
        if isinstance(e, exp.Star):
            for c in scope.star(None):
                bd = comp.compile(exp.column(c.name, c.relation))
                cols.append(OutColumn(c.name, c.type.oid, c.type.typmod))
                bounds.append(bd)
            continue
        from dsql.sql.select import _output_name
        inner = e.this if isinstance(e, exp.Alias) else e
        bd = comp.compile(inner)
        if bd.type.oid == 705:
            bd = comp.coerce(bd, __import__("dsql.sql.types.registry", fromlist=["TEXT"]).TEXT,
                             "RETURNING")
        cols.append(OutColumn(_output_name(e), bd.type.oid, bd.type.typmod))
        bounds.append(bd)
    b.volatile |= comp.volatile
    return cols, bounds


class DmlPlan(Plan):
    kind = "dml"

    def __init__(self, run: Callable[[ExecContext], tuple[int, list[Row]]], tag: str,
                 returning: tuple[list[OutColumn], list[Bound]] | None) -> None:
        self._run = run
        self._tag = tag
        self.columns = returning[0] if returning else None

    def execute(self, ec: ExecContext) -> Outcome:
        n, rows = self._run(ec)
        return Outcome(rows if self.columns is not None else [], f"{self._tag} {n}")


def _assign(comp: Compiler, b: Bound, col_type: Any, col_name: str) -> Bound:
    from dsql.errors import DatatypeMismatch
    from dsql.sql.types import registry as r
    if b.type.oid != r.UNKNOWN.oid and b.type.oid != col_type.oid and \
            not casts.can_cast(b.type, col_type, casts.ASSIGNMENT):
        raise DatatypeMismatch(
            f'column "{col_name}" is of type {r.format_type(col_type)} but expression is of '
            f"type {r.format_type(b.type.base)}",
            hint="You will need to rewrite or cast the expression.")
    if b.type == col_type:
        return b
    return comp.cast(b, col_type, casts.ASSIGNMENT)


def _defaults(b: Binder, w: TableWriter) -> list[Bound]:
    comp = b.compiler.with_scope(Scope())
    out = []
    for c in w.table.columns:
        if c.default is None:
            out.append(Bound(c.type, lambda row, p: None, True, None))
        else:
            out.append(_assign(comp, comp.compile(_parse_expr(c.default)), c.type, c.name))
    b.volatile |= comp.volatile
    return out


def plan_insert(b: Binder, node: exp.Insert) -> DmlPlan:
    target = node.this
    cols_node = None
    if isinstance(target, exp.Schema):
        cols_node = target.expressions
        target = target.this
    table = b.table(target)
    w = TableWriter(b, table)
    ncols = len(table.columns)
    if cols_node:
        positions = []
        for ident in cols_node:
            c = table.column(ident.name)
            if c is None:
                raise UndefinedColumn(f'column "{ident.name}" of relation "{table.name}" does '
                                      "not exist")
            p = table.position(c.id)
            if p in positions:
                raise DuplicateColumn(f'column "{ident.name}" specified more than once')
            positions.append(p)
    else:
        positions = list(range(ncols))
    defaults = _defaults(b, w)
    comp = b.compiler.with_scope(Scope())
    src = node.expression
    row_fns: list[list[Callable[..., Any]]] | None = None
    query = None
    if isinstance(src, exp.Values):
        row_fns = []
        for t in src.expressions:
            vals = t.expressions if isinstance(t, exp.Tuple) else [t]
            if len(vals) > len(positions):
                raise SqlSyntaxError("INSERT has more expressions than target columns")
            fns: list[Callable[..., Any]] = [d.fn for d in defaults]
            for v, p in zip(vals, positions, strict=False):
                c = table.columns[p]
                if isinstance(v, exp.Var) and v.name.upper() == "DEFAULT":
                    continue
                fns[p] = _assign(comp, comp.compile(v), c.type, c.name).fn
            row_fns.append(fns)
    elif src is not None:
        query = plan_query(b, src)
        if len(query.types) > len(positions):
            raise SqlSyntaxError("INSERT has more expressions than target columns")
        convs = []
        for t, p in zip(query.types, positions, strict=False):
            c = table.columns[p]
            convs.append(_assign(comp, Bound(t, lambda row, p: None), c.type, c.name))
        qconv = [None if t == c.type else casts.cast_fn(t, c.type, comp.ctx, casts.ASSIGNMENT)
                 for t, c in zip(query.types, [table.columns[p] for p in positions],
                                 strict=False)]
    else:
        raise FeatureNotSupported("INSERT ... DEFAULT VALUES is not supported")
    b.volatile |= comp.volatile
    conflict = node.args.get("conflict")
    on_conflict: str | None = None
    set_fns: list[tuple[int, Callable[..., Any]]] = []
    conflict_where = None
    if conflict is not None:
        action = conflict.args.get("action")
        act = action.name.upper() if action is not None else ""
        on_conflict = "nothing" if "NOTHING" in act or conflict.args.get("nothing") else "update"
        if on_conflict == "update":
            keys = conflict.args.get("conflict_keys") or []
            if not keys:
                raise InvalidColumnReference("ON CONFLICT DO UPDATE requires inference "
                                             "specification or constraint name")
            sc = Scope()
            sc.add_relation(table.name, [(c.name, c.type) for c in table.columns], table.id)
            sc.add_relation("excluded", [(c.name, c.type) for c in table.columns])
            ucomp = b.compiler.with_scope(sc)
            for eq in conflict.expressions:
                c = table.column(eq.this.name)
                if c is None:
                    raise UndefinedColumn(f'column "{eq.this.name}" of relation "{table.name}" '
                                          "does not exist")
                set_fns.append((table.position(c.id),
                                _assign(ucomp, ucomp.compile(eq.expression), c.type,
                                        c.name).fn))
            wh = conflict.args.get("where")
            if wh is not None:
                conflict_where = ucomp.boolean(wh.this if isinstance(wh, exp.Where) else wh,
                                               "WHERE").fn
            b.volatile |= ucomp.volatile
    ret = _returning(b, node, w.scope)
    ret_fns = [bd.fn for bd in ret[1]] if ret else None

    def run(ec: ExecContext) -> tuple[int, list[Row]]:
        p = ec.params
        if row_fns is not None:
            rows = [tuple(f((), p) for f in fns) for fns in row_fns]
        else:
            assert query is not None
            rows = []
            dvals = [d.fn((), p) for d in defaults]
            for qr in query.rows(ec):
                full = list(dvals)
                for v, pos, cv in zip(qr, positions, qconv, strict=False):
                    full[pos] = v if cv is None or v is None else cv(v)
                rows.append(tuple(full))
        if on_conflict is None and ret_fns is None and len(rows) > BULK_ROWS_MIN:
            from dsql.sql.copy import write_rows  # batched encodes (INSERT ... SELECT)
            for i in range(0, len(rows), BULK_BATCH_ROWS):
                write_rows(ec, w, rows[i:i + BULK_BATCH_ROWS])
            return len(rows), []
        n = 0
        out: list[Row] = []
        for row in rows:
            w.check(row)
            key = w.key_of(ec, row)
            hit = w.conflict(ec, row, key)
            if hit is not None:
                if on_conflict == "nothing":
                    continue
                if on_conflict == "update":
                    okey = hit[1]
                    raw = ec.txn.get(okey)
                    assert raw is not None
                    old = w.codec.decode(okey, raw)
                    both = old + row
                    if conflict_where is not None and conflict_where(both, p) is not True:
                        continue
                    new = list(old)
                    for pos, f in set_fns:
                        new[pos] = f(both, p)
                    newrow = tuple(new)
                    w.check(newrow)
                    w.update(ec, old, newrow, okey)
                    n += 1
                    if ret_fns is not None:
                        out.append(tuple(f(newrow, p) for f in ret_fns))
                    continue
                raise w.duplicate(hit[0], row)
            w.insert(ec, row, key)
            n += 1
            if ret_fns is not None:
                out.append(tuple(f(row, p) for f in ret_fns))
        return n, out
    plan = DmlPlan(run, "INSERT 0", ret)
    return plan


def _target(b: Binder, node: exp.Expression) -> tuple[Table, str]:
    t = node.this
    table = b.table(t)
    return table, t.alias_or_name


def plan_update(b: Binder, node: exp.Update) -> DmlPlan:
    if node.args.get("from") or node.args.get("from_"):
        raise FeatureNotSupported("UPDATE ... FROM is not supported yet")
    table, alias = _target(b, node)
    w = TableWriter(b, table)
    scope = Scope()
    scope.add_relation(alias, [(c.name, c.type) for c in table.columns], table.id)
    comp = b.compiler.with_scope(scope)
    sets: list[tuple[int, Callable[..., Any]]] = []
    for eq in node.expressions:
        col = eq.this
        c = table.column(col.name)
        if c is None:
            raise UndefinedColumn(f'column "{col.name}" of relation "{table.name}" does not '
                                  "exist")
        if isinstance(eq.expression, exp.Var) and eq.expression.name.upper() == "DEFAULT":
            d = _defaults(b, w)[table.position(c.id)]
            sets.append((table.position(c.id), d.fn))
            continue
        sets.append((table.position(c.id), _assign(comp, comp.compile(eq.expression), c.type,
                                                   c.name).fn))
    where = conjuncts(node.args["where"].this) if node.args.get("where") else []
    access = choose_access(w.codec, w.indexes, alias, where, comp)
    filt = [comp.boolean(x, "WHERE").fn for x in where] if not access.exact else []
    ret = _returning(b, node, scope)
    ret_fns = [bd.fn for bd in ret[1]] if ret else None
    b.volatile |= comp.volatile

    def run(ec: ExecContext) -> tuple[int, list[Row]]:
        p = ec.params
        targets = [(k, row) for k, row in access.run(ec)
                   if all(f(row, p) is True for f in filt)]
        out: list[Row] = []
        for key, old in targets:
            new = list(old)
            for pos, f in sets:
                new[pos] = f(old, p)
            newrow = tuple(new)
            w.check(newrow)
            w.update(ec, old, newrow, key)
            if ret_fns is not None:
                out.append(tuple(f(newrow, p) for f in ret_fns))
        return len(targets), out
    return DmlPlan(run, "UPDATE", ret)


def plan_delete(b: Binder, node: exp.Delete) -> DmlPlan:
    if node.args.get("using"):
        raise FeatureNotSupported("DELETE ... USING is not supported yet")
    table, alias = _target(b, node)
    w = TableWriter(b, table)
    scope = Scope()
    scope.add_relation(alias, [(c.name, c.type) for c in table.columns], table.id)
    comp = b.compiler.with_scope(scope)
    where = conjuncts(node.args["where"].this) if node.args.get("where") else []
    access = choose_access(w.codec, w.indexes, alias, where, comp)
    filt = [comp.boolean(x, "WHERE").fn for x in where] if not access.exact else []
    ret = _returning(b, node, scope)
    ret_fns = [bd.fn for bd in ret[1]] if ret else None
    b.volatile |= comp.volatile

    def run(ec: ExecContext) -> tuple[int, list[Row]]:
        p = ec.params
        targets = [(k, row) for k, row in access.run(ec)
                   if all(f(row, p) is True for f in filt)]
        out: list[Row] = []
        for key, old in targets:
            w.delete(ec, old, key)
            if ret_fns is not None:
                out.append(tuple(f(old, p) for f in ret_fns))
        return len(targets), out
    return DmlPlan(run, "DELETE", ret)


_unused = (IndexCodec, TableCodec)
