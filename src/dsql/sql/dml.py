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
from dsql.errors import DsqlError, FeatureNotSupported, SqlSyntaxError
from dsql.sql import casts
from dsql.sql.access import conjuncts
from dsql.sql.dialect import Dsql
from dsql.sql.dml_source import plan_targets
from dsql.sql.errors import (
    CardinalityViolation,
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
from dsql.sql.types import registry as ur

Row = tuple[Any, ...]
BULK_ROWS_MIN = 64  # larger INSERTs without ON CONFLICT / RETURNING write in batches
BULK_BATCH_ROWS = 4096


def _parse_expr(sql: str) -> exp.Expression:
    import sqlglot
    from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
    return normalize_identifiers(sqlglot.parse_one(sql, dialect=Dsql), dialect="postgres")


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
        # whether check() can fail for a row whose key columns are a stored row's and are not
        # assigned (dsql.txn.autocommit's UPDATE): a stored key column is never NULL
        pk = set(self.codec.pk_positions)
        self.checks_nonkey = bool(self.checks) or any(i not in pk for i in self.not_null)
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
        if isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this,
                                                                                exp.Star)):
            qual = e.table if isinstance(e, exp.Column) and e.table else None
            for c in scope.star(qual):
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
    point_update: tuple[Any, ...] | None = None  # see dsql.txn.autocommit
    lane_insert: tuple[Any, ...] | None = None  # (TableWriter, target positions): one row

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
    with _with(b, node):
        return _plan_insert(b, node)


def _plan_insert(b: Binder, node: exp.Insert) -> DmlPlan:
    target = node.this
    cols_node = None
    if isinstance(target, exp.Schema):
        cols_node = target.expressions
        target = target.this
    view_target(b, target, "insert into")
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
    per_row: list[tuple[int, Callable[..., Any]]] = []
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
        # an untyped literal (SELECT NULL, SELECT '1') takes the column's type, as in VALUES
        qtypes = [ur.UNKNOWN if u else t for t, u in zip(query.types, query.unknown,
                                                         strict=True)]
        convs = []
        for t, p in zip(qtypes, positions, strict=False):
            c = table.columns[p]
            convs.append(_assign(comp, Bound(t, lambda row, p: None), c.type, c.name))
        qconv = [None if t == c.type else casts.cast_fn(t, c.type, comp.ctx, casts.ASSIGNMENT)
                 for t, c in zip(qtypes, [table.columns[p] for p in positions],
                                 strict=False)]
        # a default that is not a constant (gen_random_uuid(), ...) is evaluated again for
        # every row, as PostgreSQL does; the constant ones once per execution
        filled = set(positions[:len(query.types)])
        per_row = [(i, d.fn) for i, d in enumerate(defaults)
                   if not d.const and i not in filled]
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
        late: DsqlError | None = None
        if row_fns is not None:
            rows = [tuple(f((), p) for f in fns) for fns in row_fns]
        else:
            assert query is not None
            rows = []
            dvals = [d.fn((), p) for d in defaults]
            try:  # every row is read before any is written (the statement's own snapshot)
                for qr in (query.stream(ec) if query.stream is not None else query.rows(ec)):
                    full = list(dvals)
                    for i, f in per_row:
                        full[i] = f((), p)
                    for v, pos, cv in zip(qr, positions, qconv, strict=False):
                        full[pos] = v if cv is None or v is None else cv(v)
                    rows.append(tuple(full))
            except DsqlError as e:  # PostgreSQL inserts row by row: the rows before the one
                late = e             # that failed come first, and may fail first (23505)
        if late is None and on_conflict is None and ret_fns is None and \
                len(rows) > BULK_ROWS_MIN:
            from dsql.sql.copy import write_rows  # batched encodes (INSERT ... SELECT)
            for i in range(0, len(rows), BULK_BATCH_ROWS):
                write_rows(ec, w, rows[i:i + BULK_BATCH_ROWS])
            return len(rows), []
        n = 0
        out: list[Row] = []
        touched: set[bytes] = set()  # keys this statement wrote: DO UPDATE may not meet them
        for row in rows:
            w.check(row)
            key = w.key_of(ec, row)
            hit = w.conflict(ec, row, key)
            if hit is not None:
                if on_conflict == "nothing":
                    continue
                if on_conflict == "update":
                    okey = hit[1]
                    if okey in touched:
                        raise CardinalityViolation(
                            "ON CONFLICT DO UPDATE command cannot affect row a second time",
                            hint="Ensure that no rows proposed for insertion within the same "
                                 "command have duplicate constrained values.")
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
                    touched.add(w.update(ec, old, newrow, okey))
                    n += 1
                    if ret_fns is not None:
                        out.append(tuple(f(newrow, p) for f in ret_fns))
                    continue
                raise w.duplicate(hit[0], row)
            w.insert(ec, row, key)
            if on_conflict == "update":
                touched.add(key)
            n += 1
            if ret_fns is not None:
                out.append(tuple(f(row, p) for f in ret_fns))
        if late is not None:
            raise late
        return n, out
    plan = DmlPlan(run, "INSERT 0", ret)
    if row_fns is not None and len(row_fns) == 1 and conflict is None and ret is None:
        plan.lane_insert = (w, positions)  # one VALUES row: dsql.sql.fastplan.insert_plan
    return plan


def _target(b: Binder, node: exp.Expression, verb: str) -> tuple[Table, str]:
    t = node.this
    view_target(b, t, verb)
    table = b.table(t)
    return table, t.alias_or_name


def view_target(b: Binder, t: exp.Table, verb: str) -> None:
    """Views are read-only here: 55000 "cannot <verb> view" (PostgreSQL 15's error for a view
    that is not automatically updatable)."""
    for s in ([t.db] if t.db else b.search_path):
        if b.catalog.find_table(s, t.name) is not None:
            return
        find_view = getattr(b.catalog, "find_view", None)
        if find_view is not None and find_view(s, t.name) is not None:
            raise DsqlError(
                f'cannot {verb} view "{t.name}"', sqlstate="55000",
                detail="Views are read-only in dsql (no automatically updatable views).",
                hint="Write to the view's base table instead.")


def _with(b: Binder, node: exp.Expression) -> Any:
    from contextlib import nullcontext

    from dsql.sql.ctes import with_queries
    w = node.args.get("with_") or node.args.get("with")
    return nullcontext() if w is None else with_queries(b, w)


def plan_update(b: Binder, node: exp.Update) -> DmlPlan:
    with _with(b, node):
        return _plan_update(b, node)


def _plan_update(b: Binder, node: exp.Update) -> DmlPlan:
    table, alias = _target(b, node, "update")
    w = TableWriter(b, table)
    where = conjuncts(node.args["where"].this) if node.args.get("where") else []
    source = node.args.get("from_") or node.args.get("from")
    scope, targets = plan_targets(b, table, alias, w.codec, w.indexes, where, source)
    comp = b.compiler.with_scope(scope)
    sets: list[tuple[int, Callable[..., Any]]] = []
    multi: list[tuple[list[int], Callable[..., Any]]] = []  # SET (a, b) = (SELECT ...)
    assigned: set[int] = set()

    def column(col: exp.Expression) -> Any:
        c = table.column(col.name)
        if c is None:
            raise UndefinedColumn(f'column "{col.name}" of relation "{table.name}" does not '
                                  "exist")
        pos = table.position(c.id)
        if pos in assigned:
            raise SqlSyntaxError(f'multiple assignments to same column "{c.name}"')
        assigned.add(pos)
        return c, pos

    def one(c: Any, pos: int, value: exp.Expression) -> None:
        if isinstance(value, exp.Var) and value.name.upper() == "DEFAULT":
            sets.append((pos, _defaults(b, w)[pos].fn))
            return
        sets.append((pos, _assign(comp, comp.compile(value), c.type, c.name).fn))

    for eq in node.expressions:
        if not isinstance(eq.this, exp.Tuple):
            one(*column(eq.this), eq.expression)
            continue
        targets_ = [column(col) for col in eq.this.expressions]
        value = eq.expression
        if isinstance(value, (exp.Tuple, exp.Paren)):
            vals = value.expressions if isinstance(value, exp.Tuple) else [value.this]
            if len(vals) != len(targets_):
                raise SqlSyntaxError("number of columns does not match number of values")
            for (c, pos), v in zip(targets_, vals, strict=True):
                one(c, pos, v)
            continue
        if not isinstance(value, exp.Subquery):
            raise FeatureNotSupported(f"SET (...) = {value.sql()} is not supported")
        multi.append(_multi_assign(b, comp, value, targets_))
    ret = _returning(b, node, scope)
    ret_fns = [bd.fn for bd in ret[1]] if ret else None
    b.volatile |= comp.volatile
    ntarget = len(table.columns)

    def run(ec: ExecContext) -> tuple[int, list[Row]]:
        p = ec.params
        changes = []
        for key, old, both in targets(ec):
            new = list(old)
            for pos, f in sets:
                new[pos] = f(both, p)
            for positions, fm in multi:
                for pos, v in zip(positions, fm(both, p), strict=True):
                    new[pos] = v
            changes.append((key, old, tuple(new), both))
        out: list[Row] = []
        for key, old, newrow, both in changes:
            w.check(newrow)
            w.update(ec, old, newrow, key)
            if ret_fns is not None:
                after = newrow + both[ntarget:]
                out.append(tuple(f(after, p) for f in ret_fns))
        return len(changes), out
    plan = DmlPlan(run, "UPDATE", ret)
    access = getattr(targets, "access", None)  # set for a target without FROM
    if access is not None and ret is None and not multi and not w.indexes and \
            access.kind == "point" and not w.codec.hidden_rowid and \
            not any(pos in w.codec.pk_positions for pos, _ in sets):
        plan.point_update = (access, sets, targets.filters, w)  # dsql.txn.autocommit runs it
    return plan


def _multi_assign(b: Binder, comp: Compiler, sub: exp.Subquery, targets: list[Any]
                  ) -> tuple[list[int], Callable[..., Any]]:
    """SET (a, b) = (SELECT x, y ...): one run of the subquery per row, NULLs for no row."""
    from dsql.sql.errors import CardinalityViolation
    from dsql.sql.subquery import plan_inner
    q, run, _ = plan_inner(b, sub, comp)
    if len(q.types) != len(targets):
        raise SqlSyntaxError("number of columns does not match number of values")
    convs = [_assign(comp, Bound(t, lambda row, p, i=i: row[i]), c.type, c.name).fn
             for i, (t, (c, _)) in enumerate(zip(q.types, targets, strict=True))]
    nulls = (None,) * len(targets)

    def values(row: Row, p: Sequence[Any]) -> Row:
        rows = run(row, p)
        if len(rows) > 1:
            raise CardinalityViolation("more than one row returned by a subquery used as an "
                                       "expression")
        got = rows[0] if rows else nulls
        return tuple(f(got, p) for f in convs)
    return [pos for _, pos in targets], values


def plan_delete(b: Binder, node: exp.Delete) -> DmlPlan:
    with _with(b, node):
        return _plan_delete(b, node)


def _plan_delete(b: Binder, node: exp.Delete) -> DmlPlan:
    table, alias = _target(b, node, "delete from")
    w = TableWriter(b, table)
    where = conjuncts(node.args["where"].this) if node.args.get("where") else []
    source = node.args.get("using")
    scope, targets = plan_targets(b, table, alias, w.codec, w.indexes, where, source)
    ret = _returning(b, node, scope)
    ret_fns = [bd.fn for bd in ret[1]] if ret else None

    def run(ec: ExecContext) -> tuple[int, list[Row]]:
        p = ec.params
        found = targets(ec)
        out: list[Row] = []
        for key, old, both in found:
            w.delete(ec, old, key)
            if ret_fns is not None:
                out.append(tuple(f(both, p) for f in ret_fns))
        return len(found), out
    return DmlPlan(run, "DELETE", ret)


_unused = (IndexCodec, TableCodec)
