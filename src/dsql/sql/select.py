"""SELECT: FROM (tables, joins, subqueries), WHERE, GROUP BY / HAVING, the select list,
DISTINCT, ORDER BY, LIMIT / OFFSET, FOR UPDATE / FOR KEY SHARE, UNION / INTERSECT / EXCEPT.

The plan is a pipeline of generators over row tuples: source -> filter -> aggregate ->
having -> project (with hidden sort columns) -> distinct -> sort -> offset/limit -> trim.
A single-table source uses the access path access.choose_access picks; joins are nested loops
over a materialised inner side (hash join when ON is an equality of the two sides).
"""

from __future__ import annotations

import dataclasses
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
from dsql.sql.dialect import NAME_KEY
from dsql.sql.errors import (
    AmbiguousColumn,
    InvalidColumnReference,
    UndefinedTable,
)
from dsql.sql.expr import Bound, Compiler, Level, function_parts
from dsql.sql.functions import comparison
from dsql.sql.plan import ExecContext, OutColumn, Outcome, Plan
from dsql.sql.scope import Scope, ScopeColumn
from dsql.sql.types import registry as r
from dsql.txn.interrupt import checked

Source = Callable[[ExecContext], Iterator[tuple[Any, ...]]]
Row = tuple[Any, ...]


class _Shared:
    """State every binder of one statement shares (subqueries, CTE bodies, views)."""

    __slots__ = ("deps", "expand_stars", "needs_ec", "view_depth")

    def __init__(self) -> None:
        self.deps: set[int] = set()  # ids of the tables and views the statement reads
        self.needs_ec = False  # some closure reads p.ec (outer rows, LATERAL)
        self.expand_stars = False  # CREATE VIEW: write each * out in the AST as its columns
        self.view_depth = 0  # views being expanded around this binder


class Binder:
    """Per query level: the catalog, search path, value context and parameter types, and the
    WITH queries in scope. A subquery gets a child binder (`child`) whose compiler looks up
    unknown columns in the enclosing query's compiler."""

    def __init__(self, catalog: Catalog, search_path: list[str], compiler: Compiler) -> None:
        self.catalog = catalog
        self.search_path = search_path
        self.compiler = compiler
        self.volatile = False
        self.ctes: dict[str, Any] = {}  # name -> ctes.Cte
        self.shared = _Shared()
        compiler.binder = self

    def child(self, outer: Compiler) -> Binder:
        """A binder for a subquery of the query `outer` compiles."""
        comp = Compiler(Scope(), outer.ctx, outer.param_types, session=outer.session)
        comp.subquery_planner = outer.subquery_planner
        comp.outer, comp.level = outer, Level()
        b = Binder(self.catalog, self.search_path, comp)
        b.ctes = dict(self.ctes)
        b.shared = self.shared
        self.shared.needs_ec = True
        return b

    def table(self, t: exp.Table) -> Table:
        schemas = [t.db] if t.db else self.search_path
        for s in schemas:
            found = self.catalog.find_table(s, t.name)
            if found is not None:
                self.shared.deps.add(found.id)
                return found
        name = f"{t.db}.{t.name}" if t.db else t.name
        raise UndefinedTable(f'relation "{name}" does not exist')

    def special(self, t: exp.Table) -> FromItem | None:
        """A FROM item for a WITH query or a view of this name, or None for a table."""
        if not t.db and t.name in self.ctes:
            from dsql.sql.ctes import cte_item
            return cte_item(self, self.ctes[t.name], t)
        find_view = getattr(self.catalog, "find_view", None)
        if find_view is None:
            return None
        for s in ([t.db] if t.db else self.search_path):
            if self.catalog.find_table(s, t.name) is not None:
                return None
            v = find_view(s, t.name)
            if v is not None:
                from dsql.sql.views import view_item
                self.shared.deps.add(v.id)
                return view_item(self, v, t)
        return None

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
    special = None
    if not joins and isinstance(first, exp.Table) and not _is_function_table(first):
        special = b.special(first)  # a WITH query or a view, planned once here
    if not joins and isinstance(first, exp.Table) and not _is_function_table(first) and \
            special is None and system.system_relation_for(b, first) is None:
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
    item = special if special is not None else _from_item(b, first)
    tail: FromItem | None = None  # the join tree after the last comma: `a, b JOIN c ON ..`
    for j in joins:
        if _is_comma(j):
            if tail is not None:
                item = _join(b, item, j, right=tail)
            tail = _from_item(b, j.this)
        elif tail is not None and not isinstance(j.this, exp.Lateral):
            tail = _join(b, tail, j, unreachable=item.scope.relations)
        else:
            if tail is not None:  # LATERAL sees every item before it
                item, tail = _join(b, item, _COMMA, right=tail), None
            item = _join(b, item, j)
    if tail is not None:
        item = _join(b, item, _COMMA, right=tail)
    if joins:  # a join's output can be far bigger than its inputs: check it for cancels too
        joined = item.source
        item.source = lambda ec: checked(joined(ec), ec.txn.interrupt)
    return item, where


def _is_function_table(t: exp.Table) -> bool:
    return isinstance(t.this, exp.Func) or isinstance(t.this, exp.Anonymous)


def _from_item(b: Binder, node: exp.Expression) -> FromItem:
    if isinstance(node, exp.Table) and not _is_function_table(node):
        special = b.special(node)
        if special is not None:
            return special
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
        names = alias_names(node, [c.name for c in inner.columns], alias)
        scope = Scope()
        scope.add_relation(alias, list(zip(names, inner.types, strict=True)))

        def sub(ec: ExecContext) -> Iterator[Row]:
            return iter(inner.rows(ec))
        return FromItem(scope, sub)
    if isinstance(node, exp.Lateral):
        raise FeatureNotSupported("LATERAL must follow another FROM item")
    if isinstance(node, exp.Table) and _is_function_table(node):
        return _function_table(b, node)
    if isinstance(node, exp.Values):
        return _values_item(b, node)
    raise FeatureNotSupported(f"FROM item {node.sql()} is not supported")


def alias_names(node: exp.Expression, names: list[str], alias: str) -> list[str]:
    """Output names after a table alias's column list `AS alias(a, b)` (42P10 if too long)."""
    names = list(names)
    ta = node.args.get("alias")
    if ta is not None and ta.columns:
        if len(ta.columns) > len(names):
            raise InvalidColumnReference(f'table "{alias}" has {len(names)} columns available '
                                         f"but {len(ta.columns)} columns specified")
        for i, cn in enumerate(ta.columns):
            names[i] = cn.name
    return names


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
    from dsql.sql.series import series_item
    return series_item(b, node)


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


_COMMA = exp.Join(this=exp.Table(this=exp.to_identifier("comma")))  # `a, b` (b planned)


def _is_comma(j: exp.Join) -> bool:
    """A `, item` in FROM (sqlglot marks it no other way than a JOIN with nothing else)."""
    return not isinstance(j.this, exp.Lateral) and not any(
        j.args.get(a) for a in ("on", "using", "side", "kind", "method"))


def _join(b: Binder, left: FromItem, j: exp.Join, right: FromItem | None = None,
          unreachable: list[str] | None = None) -> FromItem:
    """`left` joined by `j`; `right` is j's item when already planned (a comma's join tree);
    `unreachable` names the items before a comma, which j's ON may not reference."""
    if isinstance(j.this, exp.Lateral):
        from dsql.sql.lateral import lateral_join
        return lateral_join(b, left, j)
    if right is None:
        right = _from_item(b, j.this)
    side = (j.side or "").upper()
    kind = (j.kind or "").upper()
    scope = Scope()
    scope.unreachable = [n for n in unreachable or [] if n]
    scope.extend(left.scope)
    for name in right.scope.relations:
        if name and name in left.scope.relations:
            raise SyntaxErrorOrAccessRuleViolation(  # duplicate_alias
                f'table name "{name}" specified more than once', sqlstate="42712")
    scope.extend(right.scope)
    on = j.args.get("on")
    using = j.args.get("using")
    if (j.args.get("method") or "").upper() == "NATURAL":  # USING every common column name
        rnames = {c.name for c in right.scope.columns if not c.hidden}
        using = [exp.to_identifier(c.name) for c in left.scope.star(None) if c.name in rnames]
        on = None
    merged: list[tuple[int, int]] = []  # USING columns a FULL join merges: (left, right) index
    if using:
        parts = []
        for u in using:
            n = u.name
            lrel = next(c.relation for c in left.scope.columns if c.name == n)
            rrel = next(c.relation for c in right.scope.columns if c.name == n)
            parts.append(exp.EQ(this=exp.column(n, lrel), expression=exp.column(n, rrel)))
        on = exp.and_(*parts) if parts else None
        merged = _merge_using(scope, [u.name for u in using], len(left.scope.columns), side)
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
        if not merged:
            return FromItem(scope, run_full)

        def run_full_merged(ec: ExecContext) -> Iterator[Row]:
            for row in run_full(ec):
                yield row + tuple(row[li] if row[li] is not None else row[ri]
                                  for li, ri in merged)
        return FromItem(scope, run_full_merged)
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


def _merge_using(scope: Scope, names: list[str], nleft: int, side: str
                 ) -> list[tuple[int, int]]:
    """JOIN USING (PostgreSQL): each named column appears once, first in `*`, and an
    unqualified name means it: the left side's (the right's for RIGHT JOIN; for FULL JOIN a
    new column COALESCE(left, right) appended to the row, whose (left, right) row positions
    are returned). The sides' own columns stay reachable qualified (and by `rel.*`)."""
    cols = scope.columns
    width = len(cols)
    kept: list[ScopeColumn] = []
    pairs: list[tuple[int, int]] = []
    for n in names:
        li = next(i for i, c in enumerate(cols) if c.name == n and i < nleft)
        ri = next(i for i, c in enumerate(cols) if c.name == n and i >= nleft)
        lc, rc = cols[li], cols[ri]
        if side == "FULL":
            cols[li] = dataclasses.replace(lc, hidden=True)
            cols[ri] = dataclasses.replace(rc, hidden=True)
            kept.append(ScopeColumn("", n, lc.type, width + len(pairs)))
            pairs.append((lc.index, rc.index))
        elif side == "RIGHT":
            cols[li] = dataclasses.replace(lc, hidden=True)
            kept.append(rc)
        else:
            cols[ri] = dataclasses.replace(rc, hidden=True)
            kept.append(lc)
    rest = [c for c in cols if c not in kept]
    scope.columns[:] = kept + rest
    assert len(scope.columns) == width + len(pairs)
    return pairs


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
        # the rows one at a time, each computed when asked for (UNION ALL's branches in turn);
        # None when only the finished list exists
        self.stream: Callable[[ExecContext], Iterator[Row]] | None = None
        # columns that are untyped literals (shown as text): a set operation gives them the
        # other side's type, as PostgreSQL does for SELECT 1 UNION SELECT NULL
        self.unknown = unknown if unknown is not None else [False] * len(types)


def plan_query(b: Binder, node: exp.Expression) -> QueryPlan:
    w = node.args.get("with_") or node.args.get("with")
    if w is not None:
        from dsql.sql.ctes import with_queries
        with with_queries(b, w):
            return _plan_query(b, node)
    return _plan_query(b, node)


def _plan_query(b: Binder, node: exp.Expression) -> QueryPlan:
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

    def stream(ec: ExecContext) -> Iterator[Row]:  # UNION ALL: left's rows, then right's
        for side, cv in ((left, convs[0]), (right, convs[1])):
            rows = side.stream(ec) if side.stream is not None else iter(side.rows(ec))
            if not any(cv):
                yield from rows
                continue
            for rw in rows:
                yield tuple(v if c is None or v is None else c(v)
                            for v, c in zip(rw, cv, strict=True))

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
    if label == "UNION" and not distinct:
        plan.stream = stream
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
        bounds = _limits(lim, off, ec.params)
        if bounds[1] == 0:  # LIMIT 0 reads no row (nor raises a row's error)
            return []
        rows = inner(ec)
        rows = _sort(rows, [(k.fn, k.type, o) for k, o in keys], ec.params)
        return _slice(rows, bounds)
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


def _limits(lim: Bound | None, off: Bound | None, p: Sequence[Any]) -> tuple[int, int | None]:
    """(rows to skip, rows to keep or None for all), evaluated as PostgreSQL's Limit node does
    before it reads a row: OFFSET first, then LIMIT; a negative one is an error."""
    start = 0
    if off is not None:
        v = off.fn((), p)
        if v is not None and v < 0:
            raise DataException("OFFSET must not be negative", sqlstate="2201X")
        start = v or 0
    n = lim.fn((), p) if lim is not None else None
    if n is not None and n < 0:
        raise DataException("LIMIT must not be negative", sqlstate="2201W")
    assert start >= 0 and (n is None or n >= 0)
    return start, n


def _slice(rows: list[Row], bounds: tuple[int, int | None]) -> list[Row]:
    start, n = bounds
    if n is not None:
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


def _is_srf(e: exp.Expression) -> bool:
    return isinstance(e, (exp.ExplodingGenerateSeries, exp.GenerateSeries)) or \
        (isinstance(e, exp.Anonymous) and e.name.lower() == "generate_series")


def _srfs(e: exp.Expression) -> list[exp.Expression]:
    return [n for n in e.walk(prune=lambda n: isinstance(n, (exp.Subquery, exp.Exists,
                                                              exp.Select)) and n is not e)
            if isinstance(n, exp.Expression) and _is_srf(n)]


def _lift_srf(sel: exp.Select) -> exp.Select | None:
    """`SELECT x, generate_series(1, x) FROM t` as `SELECT x, s.g FROM t, LATERAL
    generate_series(1, x) s(g)` (PostgreSQL runs a set-returning function of the select list
    once per input row); None when the select list has none."""
    if not any(_srfs(e) for e in sel.expressions):
        return None
    sel = sel.copy()
    hits = [(i, n) for i, e in enumerate(sel.expressions) for n in _srfs(e)]
    if len(hits) > 1 or any(system.srf.is_srf(e) and not _srfs(e) for e in sel.expressions):
        # several set-returning functions run in lockstep (dsql.sql.system.srf expands them)
        return None
    if sel.args.get("group") or sel.args.get("having") or \
            any(contains_aggregate(e) for e in sel.expressions):
        raise FeatureNotSupported("a set-returning function beside aggregates is not supported")
    i, fn = hits[0]
    item = sel.expressions[i]
    whole = fn is item or (isinstance(item, exp.Alias) and fn is item.this)
    name = item.alias if whole and isinstance(item, exp.Alias) else "generate_series"
    rel = "*srf*"
    alias = exp.TableAlias(this=exp.to_identifier(rel, quoted=True),
                           columns=[exp.to_identifier(name, quoted=True)])
    ref = exp.column(name, rel, quoted=True)
    if sel.args.get("from_") is None and sel.args.get("from") is None:
        sel.set("from_", exp.From(this=exp.Table(this=fn.copy(), alias=alias)))
    else:
        joins = list(sel.args.get("joins") or [])
        joins.append(exp.Join(this=exp.Lateral(this=fn.copy(), alias=alias)))
        sel.set("joins", joins)
    exprs = list(sel.expressions)
    if whole:
        exprs[i] = exp.alias_(ref, name, quoted=True)
    else:
        fn.replace(ref)
    sel.set("expressions", exprs)
    return sel


def plan_select(b: Binder, sel: exp.Select) -> QueryPlan:
    lifted = _lift_srf(sel)
    if lifted is not None:
        return plan_select(b, lifted)
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
    starred = False
    for e in sel.expressions:
        if isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this,
                                                                                exp.Star)):
            qual = e.table if isinstance(e, exp.Column) and e.table else None
            starred = True
            for c in scope.star(qual):
                items.append((c.name, exp.column(c.name, c.relation or None)))
        else:
            items.append((_output_name(e), e.this if isinstance(e, exp.Alias) else e))
    if starred and b.shared.expand_stars:
        sel.set("expressions", [exp.alias_(exp.column(n, ex.table or None, quoted=True), n,
                                           quoted=True) if isinstance(ex, exp.Column) and
                                n == ex.name else exp.alias_(ex.copy(), n, quoted=True)
                                for n, ex in items])
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
        binder = GroupBinder(base, [g.sql() for g in resolved_groups], [g.type for g in gbounds],
                             group_columns=[g.column for g in gbounds])
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
    early_stop = lim is not None and not sort_keys and not distinct
    gb = gbounds if aggregating else []
    gks = [t.group_key for t in out_types]

    def run(ec: ExecContext) -> list[Row]:
        p = ec.params
        bounds = _limits(lim, off, p)
        if bounds[1] == 0:  # LIMIT 0 reads no row (nor raises a row's error)
            return []
        rows: Any = src(ec)
        if aggregating:
            rows = aggregate_rows(rows, p, gb, specs, not resolved_groups)
            if having_fn is not None:
                rows = (row for row in rows if having_fn(row, p) is True)
        elif early_stop and bounds[1] is not None:
            # LIMIT without ORDER BY / DISTINCT: stop reading after offset + limit rows
            rows = itertools.islice(rows, bounds[0] + bounds[1])
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
            out = _slice(out, bounds)
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
        q.point_spec = (acc, [bd.column for bd in out_bounds])  # type: ignore
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
    if isinstance(e, exp.AtTimeZone):
        return "timezone"
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
    if isinstance(e, exp.Func) or e.meta.get(NAME_KEY):
        if e.meta.get(NAME_KEY):  # a call sqlglot renamed (substr, mod): the name written
            return e.meta[NAME_KEY]
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
    if isinstance(e, exp.Exists):
        return "exists"
    if isinstance(e, exp.Subquery) and isinstance(e.this, exp.Select) and e.this.expressions:
        return _output_name(e.this.expressions[0])  # (SELECT max(x) ...) is named max
    return "?column?"


def _type_label(e: exp.Cast) -> str:
    from dsql.sql.names import sqltype_of
    from dsql.sql.system.types import ELEMENT_OF
    try:
        t = sqltype_of(e.to)
        if isinstance(e.to, exp.DataType) and e.to.this == exp.DType.ARRAY:
            return ELEMENT_OF.get(t.oid, t).name  # x::text[] is named text, x::_text _text
        return t.name
    except Exception:
        return "?column?"


class SelectPlan(Plan):
    kind = "query"

    def __init__(self, q: QueryPlan, locks: bool) -> None:
        self.q = q
        self.point = getattr(q, "point", None)
        self.point_spec = getattr(q, "point_spec", None)  # (PointGet, output positions)
        self.columns = q.columns
        self.locks = locks

    def execute(self, ec: ExecContext) -> Outcome:
        rows = self.q.rows(ec)
        return Outcome(rows, f"SELECT {len(rows)}")


def scalar_subquery(b: Binder, node: exp.Expression, comp: Compiler) -> Bound:
    """(SELECT ...), EXISTS, IN / ANY / ALL (SELECT ...), correlated or not (subquery.py)."""
    from dsql.sql.subquery import plan_subquery
    return plan_subquery(comp.binder or b, node, comp)


class ParamsWithContext(tuple):  # type: ignore[type-arg]
    """The params tuple of a statement, carrying its ExecContext for subqueries."""

    ec: ExecContext


def _current_ec(p: Sequence[Any]) -> ExecContext:
    ec = getattr(p, "ec", None)
    if ec is None:
        raise FeatureNotSupported("a subquery is not supported here")
    return ec


