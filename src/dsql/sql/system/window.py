"""Window functions in the select list: row_number(), rank(), dense_rank() OVER
([PARTITION BY ...] [ORDER BY ...]) — what catalog queries (pgjdbc's getColumns) use.

The planner hands the FROM/WHERE rows to `plan_windows`, which computes each window value per
row in one pass over the materialised rows (partition, sort, number) and appends it to the row
as a hidden column; the window call in the select list becomes a reference to that column.
Aggregating queries with window functions are not supported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from dsql.errors import FeatureNotSupported
from dsql.sql.scope import Scope, ScopeColumn
from dsql.sql.types import registry as r

if TYPE_CHECKING:
    from dsql.sql.select import Binder

Row = tuple[Any, ...]
RANKING = ("row_number", "rank", "dense_rank")


def has_window(items: list[tuple[str, exp.Expression]]) -> bool:
    return any(isinstance(n, exp.Window) for _, ex in items for n in ex.walk())


def plan_windows(b: Binder, items: list[tuple[str, exp.Expression]], scope: Scope,
                 src: Callable[[Any], Iterator[Row]]
                 ) -> tuple[list[tuple[str, exp.Expression]], Scope,
                            Callable[[Any], Iterator[Row]]]:
    from dsql.sql.select import _sort

    windows: list[exp.Window] = [n for _, ex in items for n in ex.walk()
                                 if isinstance(n, exp.Window)]
    assert windows, "plan_windows needs a window function"
    comp = b.compiler.with_scope(scope)
    specs = []
    new_scope = Scope(list(scope.columns), list(scope.relations), scope.outer)
    width = len(scope.columns)
    names: dict[int, str] = {}
    for k, w in enumerate(windows):
        fname = (w.this.name if isinstance(w.this, exp.Anonymous)
                 else w.this.sql_name()).lower()
        if fname not in RANKING or (isinstance(w.this, exp.Anonymous) and w.this.expressions):
            raise FeatureNotSupported(f"window function {fname} is not supported")
        parts = [comp.compile(p).fn for p in (w.args.get("partition_by") or [])]
        order = w.args.get("order")
        keys = [(comp.compile(o.this), o) for o in (order.expressions if order else [])]
        specs.append((fname, parts, [(bd.fn, bd.type, o) for bd, o in keys]))
        name = f"__window{k}"
        names[id(w)] = name
        new_scope.columns.append(ScopeColumn("", name, r.INT8, width + k, hidden=True))
    b.volatile |= comp.volatile

    def replace(n: exp.Expression) -> exp.Expression:
        return exp.column(names[id(n)]) if isinstance(n, exp.Window) and id(n) in names else n

    new_items = [(name, ex.transform(replace, copy=True) if not isinstance(ex, exp.Window)
                  else exp.column(names[id(ex)])) for name, ex in items]

    def rows(ec: Any) -> Iterator[Row]:
        p = ec.params
        base = list(src(ec))
        extra: list[list[int]] = [[0] * len(specs) for _ in base]
        for k, (fname, parts, keys) in enumerate(specs):
            groups: dict[tuple[Any, ...], list[int]] = {}
            for i, row in enumerate(base):
                groups.setdefault(tuple(f(row, p) for f in parts), []).append(i)
            for idx in groups.values():
                ordered = _sort([base[i] + (i,) for i in idx], keys, p) if keys else \
                    [base[i] + (i,) for i in idx]
                prev: Any = None
                rank = dense = 0
                for n, row in enumerate(ordered, 1):
                    key = tuple(fn(row, p) for fn, _, _ in keys)
                    if n == 1 or key != prev:
                        rank, dense = n, dense + 1
                    prev = key
                    extra[row[-1]][k] = {"row_number": n, "rank": rank,
                                         "dense_rank": dense}[fname]
        return (row + tuple(x) for row, x in zip(base, extra, strict=True))
    return new_items, new_scope, rows
