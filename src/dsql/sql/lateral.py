"""LATERAL: a FROM item that reads the columns of the FROM items before it.

    SELECT t.id, s.x FROM t, LATERAL (SELECT t.v * 2 AS x) s
    SELECT t.id, g FROM t CROSS JOIN LATERAL generate_series(1, t.n) AS g

The lateral item is planned as a subquery of the left side (a child binder whose outer
compiler is the left side's scope) and run once per left row with that row pushed on
`ec.outer`, as a correlated subquery is. Inner, CROSS and LEFT joins are supported.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from dsql.errors import FeatureNotSupported
from dsql.sql.plan import ExecContext
from dsql.sql.scope import Scope

if TYPE_CHECKING:
    from dsql.sql.select import Binder, FromItem

Row = tuple[Any, ...]


def lateral_join(b: Binder, left: FromItem, j: exp.Join) -> FromItem:
    from dsql.sql.select import FromItem, _from_item
    lat = j.this
    assert isinstance(lat, exp.Lateral)
    side = (j.side or "").upper()
    if side not in ("", "LEFT"):
        raise FeatureNotSupported(f"{side} JOIN LATERAL is not supported")
    inner = lat.this
    alias = lat.args.get("alias")
    if isinstance(inner, exp.Subquery):
        node: exp.Expression = inner.copy()
        if alias is not None:
            node.set("alias", alias.copy())
    elif isinstance(inner, (exp.Func, exp.Anonymous)):
        node = exp.Table(this=inner.copy(), alias=alias.copy() if alias is not None else None)
    else:
        raise FeatureNotSupported(f"LATERAL {inner.sql()} is not supported")
    child = b.child(b.compiler.with_scope(left.scope))
    right = _from_item(child, node)
    b.volatile |= child.volatile or child.compiler.volatile
    scope = Scope()
    scope.extend(left.scope)
    scope.extend(right.scope)
    on = j.args.get("on")
    comp = b.compiler.with_scope(scope)
    cond = comp.boolean(on, "JOIN/ON").fn if on is not None else None
    b.volatile |= comp.volatile
    outer_join = side == "LEFT"
    nright = len(right.scope.columns)
    lsrc, rsrc = left.source, right.source

    def run(ec: ExecContext) -> Iterator[Row]:
        p = ec.params
        stack = ec.outer
        for lr in lsrc(ec):
            stack.append(lr)
            try:
                rrows = list(rsrc(ec))
            finally:
                stack.pop()
            hit = False
            for rr in rrows:
                row = lr + rr
                if cond is None or cond(row, p) is True:
                    hit = True
                    yield row
            if outer_join and not hit:
                yield lr + (None,) * nright
    return FromItem(scope, run)
