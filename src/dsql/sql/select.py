"""SELECT: FROM (tables, joins, subqueries), WHERE, GROUP BY / HAVING, the select list,
DISTINCT, ORDER BY, LIMIT / OFFSET, FOR UPDATE / FOR KEY SHARE, UNION / INTERSECT / EXCEPT.

The plan is a pipeline of generators over row tuples: source -> filter -> aggregate ->
having -> project (with hidden sort columns) -> distinct -> sort -> offset/limit -> trim.
A single-table source uses the access path access.choose_access picks; joins are nested loops
over a materialised inner side (hash join when ON is an equality of the two sides).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlglot import exp

from dsql.adjudicator import Kind
from dsql.catalog.layout import IndexCodec, TableCodec
from dsql.catalog.objects import Catalog, Table
from dsql.errors import (
    DataException,
    DatatypeMismatch,
    FeatureNotSupported,
    SqlSyntaxError,
    SyntaxErrorOrAccessRuleViolation,
)
from dsql.sql import (
    casts,
    system,  # noqa: I001  (pg_catalog / information_schema relations)
)
from dsql.sql.access import NO_MATCH, Access, PointGet, choose_access, conjuncts
from dsql.sql.aggregate import GroupBinder, aggregate_rows, contains_aggregate
from dsql.sql.errors import (
    AmbiguousColumn,
    CardinalityViolation,
    InvalidColumnReference,
    UndefinedTable,
)
from dsql.sql.expr import Bound, Compiler, function_parts
from dsql.sql.functions import comparison
from dsql.sql.plan import ExecContext, OutColumn, Outcome, Plan
from dsql.sql.scope import Scope
from dsql.sql.types import registry as r
from dsql.txn.interrupt import checked

Source = Callable[[ExecContext], Iterator[tuple[Any, ...]]]
Row = tuple[Any, ...]


class Binder:
    """Per statement: the catalog, search path, value context and parameter types."""

    def __init__(self, catalog: Catalog, search_path: list[str], compiler: Compiler) -> None:
        self.catalog = catalog
        self.search_path = search_path
        self.compiler = compiler
        self.volatile = False

    def table(self, t: exp.Table) -> Table:
        schemas = [t.db] if t.db else self.search_path
        for s in schemas:
            found = self.catalog.find_table(s, t.name)
            if found is not None:
                return found
        name = f"{t.db}.{t.name}" if t.db else t.name
        raise UndefinedTable(f'relation "{name}" does not exist')

    def codecs(self, table: Table) -> tuple[TableCodec, list[IndexCodec]]:
        codec = codec_for(table)
        return codec, [IndexCodec(i, table, codec)
                       for i in self.catalog.table_indexes(table.id)]


_codec_cache: dict[tuple[int, int], TableCodec] = {}


def codec_for(table: Table) -> TableCodec:
    key = (id(table), table.id)
    c = _codec_cache.get(key)
    if c is None or c.table is not table:
        if len(_codec_cache) > 4096:
            _codec_cache.clear()
        c = TableCodec(table)
        _codec_cache[key] = c
    return c


# -- FROM ----------------------------------------------------------------------------------------

class FromItem:
    def __init__(self, scope: Scope, source: Source, access: Access | None = None,
                 table: Table | None = None) -> None:
        self.scope, self.source, self.access, self.table = scope, source, access, table


def plan_from(b: Binder, sel: exp.Select, where: list[exp.Expression],
              lock: Kind | None) -> tuple[FromItem, list[exp.Expression]]:
    """The FROM clause's rows and scope, and the WHERE conjuncts still to apply."""
    frm = sel.args.get("from_") or sel.args.get("from")
    joins = sel.args.get("joins") or []
    if frm is None:
        return FromItem(Scope(), lambda ec: iter([()])), where
    first = frm.this
    if not joins and isinstance(first, exp.Table) and not _is_function_table(first) \
            and system.system_relation_for(b, first) is None:
        table = b.table(first)
        alias = first.alias_or_name
        scope = Scope()
        scope.add_relation(alias, [(c.name, c.type) for c in table.columns], table.id)
        codec, idx = b.codecs(table)
        comp = b.compiler.with_scope(scope)
        access = choose_access(codec, idx, alias, where, comp)
        b.volatile |= comp.volatile
        rest = [] if access.exact else where
        if lock is not None:
            filt = _filter_fn(b, scope, rest)
            run = access.run

            def locked(ec: ExecContext) -> Iterator[Row]:
                for key, row in run(ec):
                    if filt is None or filt(row, ec.params) is True:
                        ec.txn.claim(key, lock)
                        yield row
            return FromItem(scope, locked, access, table), []
        run = access.run
        return FromItem(scope, lambda ec: (row for _, row in run(ec)), access, table), rest
    if lock is not None:
        raise FeatureNotSupported("FOR UPDATE is supported on a single table only")
    item = _from_item(b, first)
    for j in joins:
        item = _join(b, item, j)
    if joins:  # a join's output can be far bigger than its inputs: check it for cancels too
        joined = item.source
        item.source = lambda ec: checked(joined(ec), ec.txn.interrupt)
    return item, where


def _is_function_table(t: exp.Table) -> bool:
    return isinstance(t.this, exp.Func) or isinstance(t.this, exp.Anonymous)


def _from_item(b: Binder, node: exp.Expression) -> FromItem:
    if isinstance(node, exp.Table) and not _is_function_table(node):
        sys_item = system.from_item(b, node)
        if sys_item is not None:
            return sys_item
        table = b.table(node)
        alias = node.alias_or_name
        scope = Scope()
        scope.add_relation(alias, [(c.name, c.type) for c in table.columns], table.id)
        codec, _ = b.codecs(table)
        lo, hi = codec.key_bounds()
        decode_many = codec.decode_many

        def scan(ec: ExecContext) -> Iterator[Row]:
            batch = list(ec.txn.scan(lo, hi))
            return iter(decode_many(batch))
        return FromItem(scope, scan, None, table)
    if isinstance(node, exp.Subquery):
        inner = plan_query(b, node.this)
        alias = node.alias_or_name or "subquery"
        names = [c.name for c in inner.columns]
        ta = node.args.get("alias")
        if ta is not None and ta.columns:
            for i, cn in enumerate(ta.columns):
                names[i] = cn.name
        scope = Scope()
        scope.add_relation(alias, list(zip(names, inner.types, strict=True)))

        def sub(ec: ExecContext) -> Iterator[Row]:
            return iter(inner.rows(ec))
        return FromItem(scope, sub)
    if isinstance(node, exp.Table) and _is_function_table(node):
        return _function_table(b, node)
    if isinstance(node, exp.Values):
        return _values_item(b, node)
    raise FeatureNotSupported(f"FROM item {node.sql()} is not supported")


def _function_table(b: Binder, node: exp.Table) -> FromItem:
    f = node.this
    name = (f.name if isinstance(f, exp.Anonymous) else f.sql_name()).lower()
    name = {"exploding_generate_series": "generate_series"}.get(name, name)
    if name not in ("generate_series",):
        sys_args = [f.this] if isinstance(f, exp.Explode) else list(f.expressions)
        sys_item = system.function_table(b, node, name, sys_args)
        if sys_item is not None:
            return sys_item
        raise FeatureNotSupported(f"function {name} in FROM is not supported")
    args = [b.compiler.compile(a) for a in f.expressions] if isinstance(f, exp.Anonymous) \
        else [b.compiler.compile(a) for a in (f.args.get("start"), f.args.get("end"),
                                                f.args.get("step")) if a is not None]
    if not all(a.type.oid in (r.INT4.oid, r.INT8.oid, r.INT2.oid, r.UNKNOWN.oid) for a in args):
        raise FeatureNotSupported("generate_series over non-integers is not supported")
    t = r.INT8 if any(a.type.oid == r.INT8.oid for a in args) else r.INT4
    args = [b.compiler.coerce(a, t, "generate_series") for a in args]
    alias = node.alias_or_name or "generate_series"
    ta = node.args.get("alias")
    col = ta.columns[0].name if ta is not None and ta.columns else alias
    scope = Scope()
    scope.add_relation(alias, [(col, t)])
    fns = [a.fn for a in args]

    def gen(ec: ExecContext) -> Iterator[Row]:
        vals = [f((), ec.params) for f in fns]
        if any(v is None for v in vals):
            return iter(())
        step = vals[2] if len(vals) > 2 else 1
        if step == 0:
            from dsql.errors import InvalidParameterValue
            raise InvalidParameterValue("step size cannot equal zero")
        stop = vals[1] + (1 if step > 0 else -1)
        return checked(((v,) for v in range(vals[0], stop, step)), ec.txn.interrupt)
    return FromItem(scope, gen)


def _values_item(b: Binder, node: exp.Values) -> FromItem:
    rows = [[b.compiler.compile(x) for x in t.expressions] for t in node.expressions]
    ncol = len(rows[0])
    types = []
    for i in range(ncol):
        t = comparison.select_common_type([rw[i].type for rw in rows], "VALUES")
        types.append(r.TEXT if t.oid == r.UNKNOWN.oid else t)
    fns = [[b.compiler.coerce(rw[i], types[i], "VALUES").fn for i in range(ncol)] for rw in rows]
    alias = node.alias_or_name or "*VALUES*"
    ta = node.args.get("alias")
    names = [f"column{i + 1}" for i in range(ncol)]
    if ta is not None and ta.columns:
        for i, cn in enumerate(ta.columns):
            names[i] = cn.name
    scope = Scope()
    scope.add_relation(alias, list(zip(names, types, strict=True)))
    return FromItem(scope, lambda ec: iter([tuple(f((), ec.params) for f in fr) for fr in fns]))


def _join(b: Binder, left: FromItem, j: exp.Join) -> FromItem:
    right = _from_item(b, j.this)
    side = (j.side or "").upper()
    kind = (j.kind or "").upper()
    scope = Scope()
    scope.extend(left.scope)
    for name in right.scope.relations:
        if name and name in left.scope.relations:
            raise SyntaxErrorOrAccessRuleViolation(  # duplicate_alias
                f'table name "{name}" specified more than once', sqlstate="42712")
    scope.extend(right.scope)
    on = j.args.get("on")
    using = j.args.get("using")
    if using:
        parts = []
        for u in using:
            n = u.name
            lrel = next(c.relation for c in left.scope.columns if c.name == n)
            rrel = next(c.relation for c in right.scope.columns if c.name == n)
            parts.append(exp.EQ(this=exp.column(n, lrel), expression=exp.column(n, rrel)))
        on = exp.and_(*parts) if parts else None
    comp = b.compiler.with_scope(scope)
    cond = comp.boolean(on, "JOIN/ON").fn if on is not None else None
    b.volatile |= comp.volatile
    nright = len(right.scope.columns)
    nleft = len(left.scope.columns)
    lsrc, rsrc = left.source, right.source
    if side == "RIGHT":
        def run_right(ec: ExecContext) -> Iterator[Row]:
            lrows = list(lsrc(ec))
            for rr in rsrc(ec):
                hit = False
                for lr in lrows:
                    row = lr + rr
                    if cond is None or cond(row, ec.params) is True:
                        hit = True
                        yield row
                if not hit:
                    yield (None,) * nleft + rr
        return FromItem(scope, run_right)
    if side == "FULL":
        def run_full(ec: ExecContext) -> Iterator[Row]:
            rrows = list(rsrc(ec))
            matched = [False] * len(rrows)
            for lr in lsrc(ec):
                hit = False
                for i, rr in enumerate(rrows):
                    row = lr + rr
                    if cond is None or cond(row, ec.params) is True:
                        hit = matched[i] = True
                        yield row
                if not hit:
                    yield lr + (None,) * nright
            for i, rr in enumerate(rrows):
                if not matched[i]:
                    yield (None,) * nleft + rr
        return FromItem(scope, run_full)
    outer = side == "LEFT"
    if kind == "CROSS" or (on is None and not outer):
        cond = None

    def run(ec: ExecContext) -> Iterator[Row]:
        rrows = list(rsrc(ec))
        p = ec.params
        for lr in lsrc(ec):
            hit = False
            for rr in rrows:
                row = lr + rr
                if cond is None or cond(row, p) is True:
                    hit = True
                    yield row
            if outer and not hit:
                yield lr + (None,) * nright
    return FromItem(scope, run)


def _filter_fn(b: Binder, scope: Scope, where: list[exp.Expression]
               ) -> Callable[[Row, Sequence[Any]], Any] | None:
    if not where:
        return None
    comp = b.compiler.with_scope(scope)
    fns = [comp.boolean(w, "WHERE").fn for w in where]
    b.volatile |= comp.volatile
    if len(fns) == 1:
        return fns[0]

    def all_true(row: Row, p: Sequence[Any]) -> Any:
        for f in fns:
            if f(row, p) is not True:
                return False
        return True
    return all_true


# -- the query ------------------------------------------------------------------------------------

class QueryPlan:
    """A bound query: output columns and types, and a row generator."""

    def __init__(self, columns: list[OutColumn], types: list[r.SqlType],
                 rows: Callable[[ExecContext], list[Row]],
                 unknown: list[bool] | None = None) -> None:
        self.columns, self.types, self.rows = columns, types, rows
        # columns that are untyped literals (shown as text): a set operation gives them the
        # other side's type, as PostgreSQL does for SELECT 1 UNION SELECT NULL
        self.unknown = unknown if unknown is not None else [False] * len(types)


def plan_query(b: Binder, node: exp.Expression) -> QueryPlan:
    if isinstance(node, exp.Select):
        return plan_select(b, node)
    if isinstance(node, (exp.Union, exp.Intersect, exp.Except)):
        return plan_setop(b, node)
    if isinstance(node, exp.Subquery):
        return plan_query(b, node.this)
    if isinstance(node, exp.Values):
        item = _values_item(b, node)
        cols = [OutColumn(c.name, c.type.oid, c.type.typmod) for c in item.scope.columns]
        src = item.source
        return QueryPlan(cols, [c.type for c in item.scope.columns], lambda ec: list(src(ec)))
    raise FeatureNotSupported(f"statement {node.key.upper()} is not supported")


def plan_setop(b: Binder, node: exp.Expression) -> QueryPlan:
    left, right = plan_query(b, node.this), plan_query(b, node.expression)
    label = {exp.Union: "UNION", exp.Intersect: "INTERSECT", exp.Except: "EXCEPT"}[type(node)]
    if len(left.types) != len(right.types):
        raise SqlSyntaxError(f"each {label} query must have the same number of columns")
    types = []
    sides = [[r.UNKNOWN if u else t for t, u in zip(side.types, side.unknown, strict=True)]
             for side in (left, right)]
    for lt, rt in zip(*sides, strict=True):
        t = comparison.select_common_type([lt, rt], label)
        types.append(r.TEXT if t.oid == r.UNKNOWN.oid else t)
    convs = [[None if s.oid == t.oid or (s.oid == r.UNKNOWN.oid and t.oid == r.TEXT.oid)
              else casts.cast_fn(s, t, b.compiler.ctx, casts.IMPLICIT)
              for s, t in zip(side, types, strict=True)] for side in sides]
    distinct = bool(node.args.get("distinct", True))
    gks = [t.group_key for t in types]

    def gk(row: Row) -> Row:
        return tuple(v if g is None or v is None else g(v) for v, g in zip(row, gks, strict=True))

    def conv(rows: list[Row], cv: list[Any]) -> list[Row]:
        if not any(cv):
            return rows
        return [tuple(v if c is None or v is None else c(v) for v, c in zip(rw, cv, strict=True))
                for rw in rows]

    def run(ec: ExecContext) -> list[Row]:
        a, bb = conv(left.rows(ec), convs[0]), conv(right.rows(ec), convs[1])
        if label == "UNION":
            out = a + bb
            return _dedupe(out, gk) if distinct else out
        bkeys: dict[Row, int] = {}
        for rw in bb:
            k = gk(rw)
            bkeys[k] = bkeys.get(k, 0) + 1
        res = []
        for rw in (_dedupe(a, gk) if distinct else a):
            k = gk(rw)
            n = bkeys.get(k, 0)
            if label == "INTERSECT":
                if n > 0:
                    res.append(rw)
                    if not distinct:
                        bkeys[k] = n - 1
            else:
                if n == 0:
                    res.append(rw)
                elif not distinct:
                    bkeys[k] = n - 1
        return res
    plan = QueryPlan([OutColumn(c.name, t.oid, t.typmod) for c, t in
                      zip(left.columns, types, strict=True)], types, run)
    return _order_limit_outer(b, node, plan)


def _order_limit_outer(b: Binder, node: exp.Expression, plan: QueryPlan) -> QueryPlan:
    order = node.args.get("order")
    limit, offset = node.args.get("limit"), node.args.get("offset")
    if order is None and limit is None and offset is None:
        return plan
    scope = Scope()
    scope.add_relation("", [(c.name, t) for c, t in zip(plan.columns, plan.types, strict=True)])
    comp = b.compiler.with_scope(scope)
    keys = []
    for o in (order.expressions if order is not None else []):
        n = _position(o.this, "ORDER BY")
        if n is None:
            keys.append((comp.compile(o.this), o))
            continue
        if not 1 <= n <= len(plan.columns):
            raise InvalidColumnReference(f"ORDER BY position {n} is not in select list")
        # by position, not by name: set operations often repeat "?column?"
        keys.append((Bound(plan.types[n - 1], lambda row, p, i=n - 1: row[i]), o))
    lim, off = _limit_fns(b, limit, offset)
    inner = plan.rows

    def run(ec: ExecContext) -> list[Row]:
        rows = inner(ec)
        rows = _sort(rows, [(k.fn, k.type, o) for k, o in keys], ec.params)
        return _slice(rows, lim, off, ec.params)
    return QueryPlan(plan.columns, plan.types, run, plan.unknown)


def _uncast(e: exp.Expression) -> exp.Expression:
    """PostgreSQL drops a no-op cast before it compares ORDER BY candidates (x and
    x::numeric are one candidate when x is numeric): compare without casts, plus the type."""
    while isinstance(e, exp.Cast):
        e = e.this
    return e


def _position(e: exp.Expression, clause: str) -> int | None:
    """`ORDER BY n` / `GROUP BY n`: n; None for an expression; 42601 for another constant.
    Like PostgreSQL's grammar, a minus sign folds into a numeric constant: (- 5) is -5."""
    while isinstance(e, exp.Paren):
        e = e.this
    sign = ""
    if isinstance(e, exp.Neg):
        inner = e.this
        while isinstance(inner, exp.Paren):
            inner = inner.this
        if isinstance(inner, exp.Literal) and not inner.is_string:
            sign, e = "-", inner
    if isinstance(e, exp.Literal) and not e.is_string:
        try:
            n = int(sign + e.this)
        except ValueError:
            n = None
        if n is None or not -(2**31) <= n < 2**31:
            raise SqlSyntaxError(f"non-integer constant in {clause}")
        return n
    if isinstance(e, (exp.Literal, exp.Boolean, exp.Null)):
        raise SqlSyntaxError(f"non-integer constant in {clause}")
    return None


def _dedupe(rows: list[Row], gk: Callable[[Row], Row]) -> list[Row]:
    seen: set[Row] = set()
    out = []
    for rw in rows:
        k = gk(rw)
        if k not in seen:
            seen.add(k)
            out.append(rw)
    return out


def _limit_fns(b: Binder, limit: exp.Expression | None, offset: exp.Expression | None
               ) -> tuple[Bound | None, Bound | None]:
    def one(node: exp.Expression | None, what: str) -> Bound | None:
        if node is None:
            return None
        e = node.args.get("expression") or node.this
        if e is None:
            return None
        bound = b.compiler.with_scope(Scope()).compile(e)
        return b.compiler.coerce(bound, r.INT8, f"argument of {what}")
    return one(limit, "LIMIT"), one(offset, "OFFSET")


def _slice(rows: list[Row], lim: Bound | None, off: Bound | None, p: Sequence[Any]
           ) -> list[Row]:
    start = 0
    if off is not None:
        v = off.fn((), p)
        if v is not None and v < 0:
            raise DataException("OFFSET must not be negative", sqlstate="2201X")
        start = v or 0
    if lim is not None:
        n = lim.fn((), p)
        if n is not None:
            if n < 0:
                raise DataException("LIMIT must not be negative", sqlstate="2201W")
            return rows[start:start + n]
    return rows[start:] if start else rows


def _sort(rows: list[Row], keys: list[tuple[Callable[..., Any], r.SqlType, exp.Ordered]],
          p: Sequence[Any]) -> list[Row]:
    if not keys:
        return rows
    rows = list(rows)
    for fn, t, o in reversed(keys):
        desc = bool(o.args.get("desc"))
        nf = o.args.get("nulls_first")
        nulls_first = desc if nf is None else bool(nf)
        null_rank = 1 if nulls_first == desc else 0
        sk = t.sort_key
        if t.oid == r.JSON.oid:
            raise DatatypeMismatch("could not identify an ordering operator for type json")

        def key(row: Row, fn: Callable[..., Any] = fn, sk: Any = sk, nr: int = null_rank
                ) -> tuple[int, Any]:
            v = fn(row, p)
            if v is None:
                return (nr, None)
            return (1 - nr, v if sk is None else sk(v))
        rows.sort(key=key, reverse=desc)
    return rows


def plan_select(b: Binder, sel: exp.Select) -> QueryPlan:
    if sel.args.get("with") is not None:
        raise FeatureNotSupported("WITH is not supported yet")
    locks = sel.args.get("locks") or []
    lock: Kind | None = None
    if locks:
        lk = locks[0]
        upd, key = bool(lk.args.get("update")), bool(lk.args.get("key"))
        if upd:
            lock = Kind.NONKEY if key else Kind.FULL
        elif key:
            lock = Kind.KEYSHARE
        else:
            raise FeatureNotSupported("SELECT ... FOR SHARE is not supported; use FOR UPDATE "
                                      "or FOR KEY SHARE")
    where = conjuncts(sel.args["where"].this) if sel.args.get("where") else []
    item, rest = plan_from(b, sel, where, lock)
    scope = item.scope
    filt = _filter_fn(b, scope, rest)
    src = item.source
    if filt is not None:
        inner_src = src

        def filtered(ec: ExecContext) -> Iterator[Row]:
            p = ec.params
            return (row for row in inner_src(ec) if filt(row, p) is True)
        src = filtered

    # select list (expand *)
    items: list[tuple[str, exp.Expression]] = []
    for e in sel.expressions:
        if isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this,
                                                                                exp.Star)):
            qual = e.table if isinstance(e, exp.Column) and e.table else None
            for c in scope.star(qual):
                items.append((c.name, exp.column(c.name, c.relation or None)))
        else:
            items.append((_output_name(e), e.this if isinstance(e, exp.Alias) else e))
    if system.window.has_window(items):
        items, scope, src = system.window.plan_windows(b, items, scope, src)

    group = sel.args.get("group")
    having = sel.args.get("having")
    group_exprs = list(group.expressions) if group is not None else []
    # GROUP BY ordinals / output aliases
    aliases = {name: ex for name, ex in items}
    resolved_groups = []
    for g in group_exprs:
        n = _position(g, "GROUP BY")
        if n is not None:
            if not 1 <= n <= len(items):
                raise InvalidColumnReference(f"GROUP BY position {n} is not in select list")
            resolved_groups.append(items[n - 1][1])
        elif isinstance(g, exp.Column) and not g.table and g.name in aliases and \
                not any(c.name == g.name for c in scope.columns):
            resolved_groups.append(aliases[g.name])
        else:
            resolved_groups.append(g)
    aggregating = bool(resolved_groups) or having is not None or \
        any(contains_aggregate(ex) for _, ex in items)
    base = b.compiler.with_scope(scope)
    if aggregating:
        gbounds = [base.compile(g) for g in resolved_groups]
        binder = GroupBinder(base, [g.sql() for g in resolved_groups], [g.type for g in gbounds])
        top = b.compiler.with_scope(scope, binder)
    else:
        top = base
    out_bounds = [top.compile(ex) for _, ex in items]
    unknown = [bd.type.oid == r.UNKNOWN.oid for bd in out_bounds]
    out_types = [bd.type if bd.type.oid != r.UNKNOWN.oid else r.TEXT for bd in out_bounds]
    out_bounds = [top.coerce(bd, t, "select") if bd.type.oid == r.UNKNOWN.oid else bd
                  for bd, t in zip(out_bounds, out_types, strict=True)]
    having_fn = top.boolean(having.this, "HAVING").fn if having is not None else None
    # ORDER BY: output position, output alias, or an expression (hidden column)
    order = sel.args.get("order")
    sort_keys: list[tuple[int, r.SqlType, exp.Ordered]] = []
    hidden: list[Bound] = []
    for o in (order.expressions if order is not None else []):
        e = o.this
        n = _position(e, "ORDER BY")
        if n is not None:
            if not 1 <= n <= len(items):
                raise InvalidColumnReference(f"ORDER BY position {n} is not in select list")
            sort_keys.append((n - 1, out_types[n - 1], o))
            continue
        if isinstance(e, exp.Column) and not e.table:
            # an output column name wins over an input column (unlike in GROUP BY)
            names = [i for i, (nm, _) in enumerate(items) if nm == e.name]
            if len({(_uncast(items[i][1]).sql(), out_types[i]) for i in names}) > 1:
                raise AmbiguousColumn(f'ORDER BY "{e.name}" is ambiguous')
            if names:
                sort_keys.append((names[0], out_types[names[0]], o))
                continue
        bd = top.compile(e)
        sort_keys.append((len(items) + len(hidden), bd.type, o))
        hidden.append(bd)
    b.volatile |= base.volatile or top.volatile
    all_fns = [bd.fn for bd in out_bounds] + [bd.fn for bd in hidden]
    srf = any(system.srf.is_srf(ex) for _, ex in items)
    nout = len(items)
    distinct = sel.args.get("distinct") is not None
    if distinct and hidden:
        raise InvalidColumnReference("for SELECT DISTINCT, ORDER BY expressions must appear "
                                     "in select list")
    lim, off = _limit_fns(b, sel.args.get("limit"), sel.args.get("offset"))
    specs = binder.specs if aggregating else []
    gb = gbounds if aggregating else []
    gks = [t.group_key for t in out_types]

    def run(ec: ExecContext) -> list[Row]:
        p = ec.params
        rows: Any = src(ec)
        if aggregating:
            rows = aggregate_rows(rows, p, gb, specs, not resolved_groups)
            if having_fn is not None:
                rows = (row for row in rows if having_fn(row, p) is True)
        if len(all_fns) == 1:
            f0 = all_fns[0]
            out = [(f0(row, p),) for row in rows]
        else:
            out = [tuple([f(row, p) for f in all_fns]) for row in rows]
        if srf:
            out = system.srf.expand(out)
        if distinct:
            out = _dedupe(out, lambda rw: tuple(v if g is None or v is None else g(v)
                                                for v, g in zip(rw, gks, strict=True)))
        if sort_keys:
            out = _sort(out, [(lambda row, p, i=i: row[i], t, o) for i, t, o in sort_keys], p)
        if lim is not None or off is not None:
            out = _slice(out, lim, off, p)
        if hidden:
            out = [row[:nout] for row in out]
        return out

    cols = []
    for (name, ex), t in zip(items, out_types, strict=True):
        toid, cno = 0, 0
        if isinstance(ex, exp.Column):
            try:
                sc = scope.resolve(ex.table or None, ex.name)
                toid, cno = sc.table_oid, sc.column_no
            except Exception:
                pass
        cols.append(OutColumn(name, t.oid, t.typmod, toid, cno))
    q = QueryPlan(cols, out_types, run, unknown)
    acc = item.access
    if (isinstance(acc, PointGet) and acc.exact and not aggregating and not hidden
            and not distinct and lim is None and off is None and lock is None
            and all(bd.column is not None for bd in out_bounds)):
        q.point = _point_reader(acc, [bd.column for bd in out_bounds])  # type: ignore
    return q


def _point_reader(acc: PointGet, positions: list[Any]
                  ) -> Callable[[Sequence[Any], Callable[[bytes, int], Any], int], list[Row]]:
    """The whole statement as one closure: key from the parameters, one storage read, one
    decode, the projection (the cached-plan fast path of a primary-key lookup)."""
    encode, convs = acc.encode, acc.values
    decode = acc.codec.decode
    pick = _picker(positions)
    if len(convs) == 1:
        c0 = convs[0]

        def one(params: Sequence[Any], get: Callable[[bytes, int], Any], ts: int) -> list[Row]:
            v = c0(params)
            if v is None or v is NO_MATCH:
                return []
            key = encode((v,))
            raw = get(key, ts)
            return [] if raw is None else [pick(decode(key, raw))]
        return one

    def many(params: Sequence[Any], get: Callable[[bytes, int], Any], ts: int) -> list[Row]:
        key = acc.key(params)
        if key is None:
            return []
        raw = get(key, ts)
        return [] if raw is None else [pick(decode(key, raw))]
    return many


def _picker(positions: list[Any]) -> Callable[[Row], Row]:
    if len(positions) == 1:
        i = positions[0]
        return lambda row: (row[i],)
    from operator import itemgetter
    return itemgetter(*positions)  # type: ignore[return-value]


def _output_name(e: exp.Expression) -> str:
    if isinstance(e, exp.Alias):
        return e.alias
    if isinstance(e, exp.Column):
        return e.name
    if isinstance(e, exp.Cast):
        inner = _output_name(e.this)
        arg = e.this
        while isinstance(arg, exp.Paren):
            arg = arg.this
        # a cast keeps a real name (a column, a call); a constant's takes the type's name
        if inner != "?column?" and not isinstance(arg, (exp.Cast, exp.Interval, exp.Literal)):
            return inner
        return e.to.sql(dialect="postgres").split("(")[0].lower().replace(
            "int", "int4") if False else _type_label(e)
    if isinstance(e, exp.Connector):  # AND / OR are Func nodes in sqlglot
        return "?column?"
    if isinstance(e, exp.Case):
        # PostgreSQL names a CASE after its ELSE when that has a real name (a column, a call)
        d = e.args.get("default")
        while isinstance(d, (exp.Paren, exp.Cast)):
            d = d.this
        if isinstance(d, (exp.Column, exp.Func, exp.Case)):
            inner = _output_name(d)
            if inner != "?column?":
                return inner
        return "case"
    if isinstance(e, exp.Filter):  # count(*) FILTER (WHERE ...)
        return _output_name(e.this)
    if isinstance(e, exp.Subquery) and isinstance(e.this, exp.Select) and \
            len(e.this.expressions) == 1:  # a scalar subquery: its column's name
        return _output_name(e.this.expressions[0])
    if isinstance(e, exp.Func):
        if isinstance(e, exp.Anonymous):
            return e.name.lower()
        n = e.sql_name().lower()
        if isinstance(e, (exp.Pad, exp.Initcap, exp.Hex, exp.TimeToStr, exp.TimestampTrunc,
                          exp.Trim, exp.Log, exp.StrPosition)):
            n = function_parts(e)[0]  # the PostgreSQL name behind sqlglot's node
        return {"logical_and": "bool_and", "logical_or": "bool_or", "group_concat":
                "string_agg", "currenttimestamp": "current_timestamp",
                "current_timestamp": "now"}.get(n, n)
    if isinstance(e, exp.Paren):
        return _output_name(e.this)
    if isinstance(e, exp.Interval):  # INTERVAL '1 day' is a typed literal
        return "interval"
    if isinstance(e, exp.IntDiv):  # div(a, b)
        return "div"
    return "?column?"


def _type_label(e: exp.Cast) -> str:
    from dsql.sql.names import sqltype_of
    try:
        return sqltype_of(e.to).name
    except Exception:
        return "?column?"


class SelectPlan(Plan):
    kind = "query"

    def __init__(self, q: QueryPlan, locks: bool) -> None:
        self.q = q
        self.point = getattr(q, "point", None)
        self.columns = q.columns
        self.locks = locks

    def execute(self, ec: ExecContext) -> Outcome:
        rows = self.q.rows(ec)
        return Outcome(rows, f"SELECT {len(rows)}")


def scalar_subquery(b: Binder, node: exp.Expression, comp: Compiler) -> Bound:
    """(SELECT ...), EXISTS (SELECT ...), x IN (SELECT ...), ARRAY(SELECT ...); the subquery
    may refer to the enclosing query's columns (one level): it runs once per outer row."""
    sb = Binder(b.catalog, b.search_path, b.compiler.with_outer(comp.scope))
    try:
        return _subquery(sb, node, comp)
    finally:
        b.volatile |= sb.volatile


def _run_sub(q: QueryPlan, row: Row, p: Sequence[Any]) -> list[Row]:
    ec = _current_ec(p)
    stack = ec.__dict__.setdefault("outer_rows", [])
    stack.append(row)
    try:
        return q.rows(ec)
    finally:
        stack.pop()


def _subquery(b: Binder, node: exp.Expression, comp: Compiler) -> Bound:
    if isinstance(node, exp.Exists):
        q = plan_query(b, node.this)
        return Bound(r.BOOL, lambda row, p, q=q: bool(_run_sub(q, row, p)))
    if isinstance(node, exp.Array):
        q = plan_query(b, node.expressions[0])
        if len(q.types) != 1:
            raise FeatureNotSupported("subquery must return only one column")
        at = system.exprs.array_result_type(q.types[0])
        return Bound(at, lambda row, p, q=q: [v for (v,) in _run_sub(q, row, p)])
    if isinstance(node, exp.In):
        q = plan_query(b, node.args["query"].this)
        if len(q.types) != 1:
            raise FeatureNotSupported("subquery has too many columns")
        left = comp.compile(node.this)
        eq = comp.operator("=", [Bound(left.type, lambda row, p: row[0]),
                                 Bound(q.types[0], lambda row, p: row[1])]).fn
        lf = left.fn

        def f_in(row: Row, p: Sequence[Any]) -> Any:
            x = lf(row, p)
            vals = _run_sub(q, row, p)
            if x is None:
                return None if vals else False
            saw_null = False
            for (v,) in vals:
                if v is None:
                    saw_null = True
                elif eq((x, v), p):
                    return True
            return None if saw_null else False
        return Bound(r.BOOL, f_in)
    q = plan_query(b, node.this if isinstance(node, exp.Subquery) else node)
    if len(q.types) != 1:
        raise SqlSyntaxError("subquery must return only one column")

    def f_scalar(row: Row, p: Sequence[Any]) -> Any:
        rows = _run_sub(q, row, p)
        if len(rows) > 1:
            raise CardinalityViolation("more than one row returned by a subquery used as an "
                                       "expression")
        return rows[0][0] if rows else None
    return Bound(q.types[0], f_scalar)


class ParamsWithContext(tuple):  # type: ignore[type-arg]
    """The params tuple of a statement, carrying its ExecContext for subqueries."""

    ec: ExecContext


def _current_ec(p: Sequence[Any]) -> ExecContext:
    ec = getattr(p, "ec", None)
    if ec is None:
        raise FeatureNotSupported("a subquery is not supported here")
    return ec


_ = itertools  # reserved for merge joins
