"""Subquery expressions: (SELECT ...), EXISTS, x [NOT] IN (SELECT ...), x op ANY/SOME/ALL.

    SELECT name FROM emp e WHERE salary > (SELECT avg(salary) FROM emp WHERE dept = e.dept)

A subquery is planned with a child binder whose compiler looks unknown columns up in the
enclosing query (expr.Compiler._outer_column). If nothing inside it reads an enclosing row
(its Level is not `correlated`) it runs once per statement execution and its rows are kept in
`ec.memo` (PostgreSQL's initplan); otherwise it runs once per outer row, with that row pushed
on `ec.outer` for the duration of the run (so a query's rows are always a finished list).

NULL semantics are PostgreSQL's: x IN (...) is NULL when no element is equal and some element
(or x) is NULL, so NOT IN over a set containing NULL is never true; ANY / ALL likewise; a
scalar subquery with no row is NULL and with more than one is 21000.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from dsql.errors import FeatureNotSupported, SqlSyntaxError
from dsql.sql.errors import CardinalityViolation
from dsql.sql.expr import Bound, Compiler
from dsql.sql.types import registry as r

if TYPE_CHECKING:
    from dsql.sql.select import Binder, QueryPlan

Row = tuple[Any, ...]
_OPS = {exp.EQ: "=", exp.NEQ: "<>", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">="}


def _ec(p: Sequence[Any]) -> Any:
    ec = getattr(p, "ec", None)
    if ec is None:
        raise FeatureNotSupported("a subquery is not supported here")
    return ec


def _query_node(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Subquery) and not node.args.get("alias"):
        node = node.this
    return node


def plan_inner(b: Binder, node: exp.Expression, comp: Compiler
               ) -> tuple[QueryPlan, Callable[[Row, Sequence[Any]], list[Row]], bool]:
    """Plans `node` as a subquery of the query `comp` compiles; returns the plan, a runner
    fn(outer_row, params) -> rows, and whether it is correlated."""
    from dsql.sql.select import plan_query
    child = b.child(comp)
    q = plan_query(child, _query_node(node))
    b.volatile |= child.volatile or child.compiler.volatile
    level = child.compiler.level
    assert level is not None, "a child binder has a level"
    rows = q.rows
    if level.correlated:
        def run_correlated(row: Row, p: Sequence[Any]) -> list[Row]:
            ec = _ec(p)
            stack = ec.outer
            stack.append(row)
            try:
                out = rows(ec)
            finally:
                stack.pop()
            assert stack is ec.outer, "the outer stack is balanced"
            return out
        return q, run_correlated, True
    token = object()

    def run_once(row: Row, p: Sequence[Any]) -> list[Row]:
        ec = _ec(p)
        memo = ec.memo
        out = memo.get(token)
        if out is None:
            out = memo[token] = rows(ec)
        return out
    return q, run_once, False


def _first_row_only(node: exp.Expression) -> exp.Expression:
    """EXISTS needs one row: a plain SELECT (no aggregate, GROUP BY, DISTINCT, ORDER BY or
    LIMIT) gets LIMIT 1 so its scan stops at the first match."""
    from dsql.sql.aggregate import contains_aggregate
    sel = _query_node(node)
    if not isinstance(sel, exp.Select) or any(sel.args.get(k) for k in (
            "group", "having", "distinct", "order", "limit", "offset", "with_", "with")) or \
            any(contains_aggregate(e) for e in sel.expressions):
        return node
    return sel.copy().limit(1)


def plan_subquery(b: Binder, node: exp.Expression, comp: Compiler) -> Bound:
    if isinstance(node, exp.Exists):
        _, run, _ = plan_inner(b, _first_row_only(node.this), comp)
        return Bound(r.BOOL, lambda row, p: bool(run(row, p)))
    if isinstance(node, exp.In):
        return _in(b, node, comp)
    if type(node) in _OPS and isinstance(node.expression, (exp.Any, exp.All)):
        return _quantified(b, node, comp)
    if isinstance(node, exp.Array):  # ARRAY(SELECT x ...): the column's values as an array
        from dsql.sql.system.exprs import array_result_type
        q, run, _ = plan_inner(b, node.expressions[0], comp)
        if len(q.types) != 1:
            raise SqlSyntaxError("subquery must return only one column")
        return Bound(array_result_type(q.types[0]),
                     lambda row, p: [v for (v,) in run(row, p)])
    q, run, _ = plan_inner(b, node, comp)
    if len(q.types) != 1:
        raise SqlSyntaxError("subquery must return only one column")

    def f_scalar(row: Row, p: Sequence[Any]) -> Any:
        rows = run(row, p)
        if len(rows) > 1:
            raise CardinalityViolation("more than one row returned by a subquery used as an "
                                       "expression")
        return rows[0][0] if rows else None
    return Bound(q.types[0], f_scalar)


def _comparison(comp: Compiler, op: str, left: Bound, right_type: r.SqlType
                ) -> Callable[[Any, Any], Any]:
    """fn(x, v) -> the operator's result on a left value and a subquery value."""
    f = comp.operator(op, [Bound(left.type, lambda row, p: row[0]),
                           Bound(right_type, lambda row, p: row[1])]).fn
    return lambda x, v: f((x, v), ())


def _in(b: Binder, node: exp.In, comp: Compiler) -> Bound:
    left_node = node.this
    if isinstance(left_node, exp.Tuple):
        return _row_in(b, node, comp)
    q, run, correlated = plan_inner(b, node.args["query"], comp)
    if len(q.types) != 1:
        raise SqlSyntaxError("subquery has too many columns")
    left = comp.compile(left_node)
    eq = _comparison(comp, "=", left, q.types[0])
    lf = left.fn
    same = left.type.oid == q.types[0].oid
    if not correlated and same:
        # one hash set per statement execution (equal values of one type have equal keys)
        gk = q.types[0].group_key or (lambda v: v)
        token = object()

        def f_hashed(row: Row, p: Sequence[Any]) -> Any:
            memo = _ec(p).memo
            entry = memo.get(token)
            if entry is None:
                vals = run(row, p)
                keys = {gk(v) for (v,) in vals if v is not None}
                entry = memo[token] = (keys, any(v is None for (v,) in vals), bool(vals))
            x = lf(row, p)
            keys, saw_null, nonempty = entry
            if x is None:
                return None if nonempty else False
            if gk(x) in keys:
                return True
            return None if saw_null else False
        return Bound(r.BOOL, f_hashed)

    def f_in(row: Row, p: Sequence[Any]) -> Any:
        x = lf(row, p)
        vals = run(row, p)
        if x is None:
            return None if vals else False
        saw_null = False
        for (v,) in vals:
            if v is None:
                saw_null = True
            elif eq(x, v):
                return True
        return None if saw_null else False
    return Bound(r.BOOL, f_in)


def _row_in(b: Binder, node: exp.In, comp: Compiler) -> Bound:
    """(a, b) IN (SELECT x, y ...): a row is equal when every column is, unknown when none
    differs but some comparison is NULL."""
    q, run, _ = plan_inner(b, node.args["query"], comp)
    lefts = [comp.compile(x) for x in node.this.expressions]
    if len(q.types) != len(lefts):
        raise SqlSyntaxError("subquery has too many columns" if len(q.types) > len(lefts)
                             else "subquery has too few columns")
    eqs = [_comparison(comp, "=", lb, t) for lb, t in zip(lefts, q.types, strict=True)]
    lfs = [lb.fn for lb in lefts]

    def f_row_in(row: Row, p: Sequence[Any]) -> Any:
        xs = [f(row, p) for f in lfs]
        unknown = False
        for vs in run(row, p):
            res: bool | None = True
            for x, v, eq in zip(xs, vs, eqs, strict=True):
                if x is None or v is None:
                    res = None
                elif not eq(x, v):
                    res = False
                    break
            if res is True:
                return True
            if res is None:
                unknown = True
        return None if unknown else False
    return Bound(r.BOOL, f_row_in)


def _quantified(b: Binder, node: exp.Expression, comp: Compiler) -> Bound:
    """x op ANY (SELECT ...) / x op ALL (SELECT ...)."""
    op = _OPS[type(node)]
    quant = node.expression
    is_all = isinstance(quant, exp.All)
    target = quant.this
    if not isinstance(_query_node(target), (exp.Select, exp.Union, exp.Intersect, exp.Except,
                                            exp.Values)):
        raise FeatureNotSupported(f"{'ALL' if is_all else 'ANY'} over a non-subquery is not "
                                  "supported")
    q, run, _ = plan_inner(b, target, comp)
    if len(q.types) != 1:
        raise SqlSyntaxError("subquery has too many columns")
    left = comp.compile(node.this)
    cmp = _comparison(comp, op, left, q.types[0])
    lf = left.fn

    def f_quant(row: Row, p: Sequence[Any]) -> Any:
        vals = run(row, p)
        if not vals:
            return is_all
        x = lf(row, p)
        saw_null = False
        for (v,) in vals:
            res = None if x is None or v is None else cmp(x, v)
            if res is None:
                saw_null = True
            elif bool(res) != is_all:
                return not is_all
        return None if saw_null else is_all
    return Bound(r.BOOL, f_quant)
