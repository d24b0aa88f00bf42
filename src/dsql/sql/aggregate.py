"""Aggregation: GROUP BY keys, aggregate functions (count, sum, avg, min, max, bool_and/or,
string_agg, with DISTINCT, FILTER and an ORDER BY inside the call), and the binder that
rewrites the expressions above a GROUP BY (select list, HAVING, ORDER BY) to read group keys
and aggregate results.

The aggregated row is (group key values..., aggregate results...). Result types follow
PostgreSQL: count -> bigint; sum(int2/int4) -> bigint, sum(int8/numeric) -> numeric;
avg(integer types/numeric) -> numeric, avg(float) -> double precision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlglot import exp

from dsql.errors import (
    AmbiguousFunction,
    FeatureNotSupported,
    NumericValueOutOfRange,
    UndefinedFunction,
)
from dsql.sql.errors import GroupingError, InvalidColumnReference
from dsql.sql.expr import Bound, Compiler, function_parts
from dsql.sql.functions import catalog, comparison
from dsql.sql.types import registry as r
from dsql.sql.types.registry import SqlType

AGGREGATES = {"count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every",
              "string_agg", "array_agg"}
_AGG_CLASSES = (exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max, exp.LogicalAnd, exp.LogicalOr,
                exp.GroupConcat, exp.ArrayAgg)
_INT = {r.INT2.oid, r.INT4.oid, r.INT8.oid}
# the types PostgreSQL declares min and max for (arrays aside)
_MINMAX = {t.oid for t in (r.INT2, r.INT4, r.INT8, r.FLOAT4, r.FLOAT8, r.NUMERIC, r.TEXT,
                           r.BPCHAR, r.DATE, r.TIME, r.TIMESTAMP, r.TIMESTAMPTZ, r.INTERVAL)}
_MINMAX.add(26)  # oid (dsql.sql.system.types.OID)


def is_aggregate(e: exp.Expression) -> bool:
    if isinstance(e, exp.Filter):  # agg(...) FILTER (WHERE ...)
        return is_aggregate(e.this)
    if isinstance(e, _AGG_CLASSES):
        return True
    return isinstance(e, exp.Anonymous) and e.name.lower() in AGGREGATES


def contains_aggregate(e: exp.Expression) -> bool:
    """Whether `e` calls an aggregate of this query level (not inside a subquery)."""
    return any(is_aggregate(n) for n in e.walk(prune=lambda n: n is not e and isinstance(
        n, (exp.Subquery, exp.Exists, exp.Select, exp.SetOperation)))
        if isinstance(n, exp.Expression))


@dataclass
class AggSpec:
    name: str
    args: list[Bound]
    distinct: bool
    result: SqlType
    make: Callable[[], Any]  # -> accumulator with step(*values) and final()
    filter: Bound | None = None
    # ORDER BY inside the call: (key, descending, nulls first), applied before the steps
    order: list[tuple[Bound, bool, bool]] = field(default_factory=list)

    def accumulator(self) -> Any:
        if not self.order:
            return self.make()
        return _Ordered(self.make(), len(self.args),
                        [(k.type.sort_key, d, nf) for k, d, nf in self.order])


class _Count:
    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0

    def step(self, *vals: Any) -> None:
        if all(v is not None for v in vals):
            self.n += 1

    def final(self) -> Any:
        return self.n


class _Fold:
    """min, max, sum over a catalog operator, bool_and/or, string_agg."""

    __slots__ = ("acc", "fn", "seen")

    def __init__(self, fn: Callable[[Any, Any], Any]) -> None:
        self.acc: Any = None
        self.fn = fn
        self.seen = False

    def step(self, v: Any, *rest: Any) -> None:
        if v is None:
            return
        if not self.seen:
            self.acc, self.seen = v, True
        else:
            self.acc = self.fn(self.acc, v)

    def final(self) -> Any:
        return self.acc


class _IntSum:
    __slots__ = ("acc", "as_numeric")

    def __init__(self, as_numeric: bool) -> None:
        self.acc: int | None = None
        self.as_numeric = as_numeric

    def step(self, v: Any) -> None:
        if v is not None:
            self.acc = v if self.acc is None else self.acc + v

    def final(self) -> Any:
        if self.acc is None:
            return None
        if self.as_numeric:
            return Decimal(self.acc)
        if not -(1 << 63) <= self.acc < (1 << 63):
            raise NumericValueOutOfRange("bigint out of range")
        return self.acc


class _Avg:
    __slots__ = ("sum", "n", "add", "div", "to_sum")

    def __init__(self, add: Callable[[Any, Any], Any], div: Callable[[Any, Any], Any],
                 to_sum: Callable[[Any], Any]) -> None:
        self.sum: Any = None
        self.n = 0
        self.add, self.div, self.to_sum = add, div, to_sum

    def step(self, v: Any) -> None:
        if v is None:
            return
        v = self.to_sum(v)
        self.sum = v if self.sum is None else self.add(self.sum, v)
        self.n += 1

    def final(self) -> Any:
        return None if self.n == 0 else self.div(self.sum, self.n)


class _StringAgg:
    __slots__ = ("parts", "seps")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.seps: list[str] = []

    def step(self, v: Any, sep: Any = None) -> None:
        if v is None:
            return
        if self.parts:
            self.seps.append("" if sep is None else sep)
        self.parts.append(v)

    def final(self) -> Any:
        if not self.parts:
            return None
        out = [self.parts[0]]
        for s, p in zip(self.seps, self.parts[1:], strict=True):
            out.append(s)
            out.append(p)
        return "".join(out)


class _Ordered:
    """An aggregate call with ORDER BY: buffers (arguments..., keys...) per group and feeds
    the inner accumulator in key order when the group is complete (PostgreSQL sorts the
    group's input the same way). The buffer is bounded by the group's row count."""

    __slots__ = ("buf", "inner", "keys", "nargs")

    def __init__(self, inner: Any, nargs: int,
                 keys: list[tuple[Callable[[Any], Any] | None, bool, bool]]) -> None:
        assert keys, "an ordered aggregate needs a key"
        self.inner, self.nargs, self.keys = inner, nargs, keys
        self.buf: list[tuple[Any, ...]] = []

    def step(self, *vals: Any) -> None:
        assert len(vals) == self.nargs + len(self.keys)
        self.buf.append(vals)

    def final(self) -> Any:
        rows = self.buf
        for i in reversed(range(len(self.keys))):
            sk, desc, nulls_first = self.keys[i]
            j = self.nargs + i
            nr = 1 if nulls_first == desc else 0

            def key(v: tuple[Any, ...], j: int = j, sk: Any = sk, nr: int = nr
                    ) -> tuple[int, Any]:
                x = v[j]
                if x is None:
                    return (nr, None)
                return (1 - nr, x if sk is None else sk(x))
            rows.sort(key=key, reverse=desc)
        for v in rows:
            self.inner.step(*v[:self.nargs])
        return self.inner.final()


class _ArrayAgg:
    """array_agg(v): the values in input order (an ORDER BY in the call is applied by
    _Ordered before the values reach this), NULL for no rows."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[Any] = []

    def step(self, v: Any) -> None:
        self.items.append(v)

    def final(self) -> Any:
        return self.items or None


def make_spec(name: str, args: list[Bound], distinct: bool, compiler: Compiler) -> AggSpec:
    ctx = compiler.ctx
    if name == "array_agg":
        from dsql.sql.system.exprs import array_result_type
        if not args:
            raise UndefinedFunction("function array_agg() does not exist")
        if args[0].type.oid == r.UNKNOWN.oid:
            args[0] = compiler.coerce(args[0], r.TEXT, name)
        return AggSpec(name, args[:1], distinct, array_result_type(args[0].type.base),
                       _ArrayAgg)
    if name == "count":
        return AggSpec(name, args, distinct, r.INT8, _Count)
    if not args:
        raise UndefinedFunction(f"function {name}() does not exist")
    t = args[0].type
    if t.oid == r.UNKNOWN.oid:
        if name in ("sum", "avg"):  # several candidates, none preferred for a string literal
            raise AmbiguousFunction(f"function {name}(unknown) is not unique")
        args[0] = compiler.coerce(args[0], r.TEXT, name)
        t = r.TEXT
    if name in ("min", "max"):
        if t.oid == r.VARCHAR.oid:
            t = r.TEXT  # PostgreSQL has no min(varchar): min(text) applies, giving text
        elif t.oid not in _MINMAX and t.category != "A":
            raise UndefinedFunction(f"function {name}({r.format_type(t.base)}) does not exist")
        cmp = comparison.compare_fn(t.base)
        if name == "min":
            return AggSpec(name, args, distinct, t.base,
                           lambda: _Fold(lambda a, b: b if cmp(b, a) < 0 else a))
        return AggSpec(name, args, distinct, t.base,
                       lambda: _Fold(lambda a, b: b if cmp(b, a) > 0 else a))
    if name == "sum":
        if t.oid in _INT:
            return AggSpec(name, args, distinct, r.NUMERIC if t.oid == r.INT8.oid else r.INT8,
                           lambda: _IntSum(t.oid == r.INT8.oid))
        add = catalog.resolve_operator("+", [t.base, t.base])
        fn = add.bind(ctx)
        return AggSpec(name, args, distinct, add.result, lambda: _Fold(fn))
    if name == "avg":
        if t.oid in _INT or t.oid == r.NUMERIC.oid:
            addn = catalog.resolve_operator("+", [r.NUMERIC, r.NUMERIC]).bind(ctx)
            divn = catalog.resolve_operator("/", [r.NUMERIC, r.NUMERIC]).bind(ctx)
            return AggSpec(name, args, distinct, r.NUMERIC, lambda: _Avg(
                addn, lambda s, n: divn(s, Decimal(n)), Decimal))
        if t.oid in (r.FLOAT4.oid, r.FLOAT8.oid):
            return AggSpec(name, args, distinct, r.FLOAT8,
                           lambda: _Avg(lambda a, b: a + b, lambda s, n: s / n, float))
        if t.oid == r.INTERVAL.oid:
            addi = catalog.resolve_operator("+", [t, t]).bind(ctx)
            divi = catalog.resolve_operator("/", [t, r.FLOAT8]).bind(ctx)
            return AggSpec(name, args, distinct, r.INTERVAL,
                           lambda: _Avg(addi, lambda s, n: divi(s, float(n)), lambda v: v))
        raise UndefinedFunction(f"function avg({r.format_type(t.base)}) does not exist")
    if name in ("bool_and", "every", "bool_or"):
        args[0] = compiler.coerce(args[0], r.BOOL, name)
        if name == "bool_or":
            return AggSpec(name, args, distinct, r.BOOL, lambda: _Fold(lambda a, b: a or b))
        return AggSpec(name, args, distinct, r.BOOL, lambda: _Fold(lambda a, b: a and b))
    if name == "string_agg":
        args = [compiler.coerce(a, r.TEXT, name) for a in args]
        return AggSpec(name, args, distinct, r.TEXT, _StringAgg)
    raise FeatureNotSupported(f"aggregate {name} is not supported")


@dataclass
class GroupBinder:
    """Plugged into a Compiler above a GROUP BY: group expressions and aggregates become
    references into the aggregated row; other column references are 42803."""

    input_compiler: Compiler
    group_sql: list[str]
    group_types: list[SqlType]
    specs: list[AggSpec] = field(default_factory=list)
    _agg_sql: dict[str, int] = field(default_factory=dict)
    group_columns: list[int | None] = field(default_factory=list)  # input row index per key

    def intercept(self, e: exp.Expression, compiler: Compiler) -> Bound | None:
        s = e.sql()
        if s in self.group_sql:
            i = self.group_sql.index(s)
            return Bound(self.group_types[i], lambda row, p: row[i], column=i)
        if is_aggregate(e):
            k = self._agg_sql.get(s)
            if k is None:
                k = len(self.specs)
                self.specs.append(self._spec(e))
                self._agg_sql[s] = k
            i = len(self.group_sql) + k
            return Bound(self.specs[k].result, lambda row, p: row[i])
        if isinstance(e, exp.Column):
            c = self.input_compiler.scope.resolve(e.table or None, e.name)
            if c.index in self.group_columns:  # e.dept when grouped by dept
                i = self.group_columns.index(c.index)
                return Bound(self.group_types[i], lambda row, p: row[i], column=i)
            raise GroupingError(f'column "{c.relation}.{c.name}" must appear in the GROUP BY '
                                "clause or be used in an aggregate function")
        return None

    def _spec(self, e: exp.Expression) -> AggSpec:
        filt = None
        if isinstance(e, exp.Filter):
            cond = e.expression.this if isinstance(e.expression, exp.Where) else e.expression
            if contains_aggregate(cond):
                raise GroupingError("aggregate functions are not allowed in FILTER")
            filt = self.input_compiler.boolean(cond, "FILTER")
            e = e.this
        name, raw = function_parts(e)  # type: ignore[arg-type]
        order: list[exp.Ordered] = []
        for i, a in enumerate(raw):
            if isinstance(a, exp.Order):
                order = list(a.expressions)
                raw[i] = a.this
        name = {"logical_and": "bool_and", "logical_or": "bool_or",
                "group_concat": "string_agg"}.get(name, name)
        distinct = False
        if len(raw) == 1 and isinstance(raw[0], exp.Distinct):
            distinct = True
            raw = list(raw[0].expressions)
        if isinstance(e, exp.GroupConcat) and e.args.get("separator") is not None:
            this = e.this.this if isinstance(e.this, exp.Order) else e.this
            raw = [this, e.args["separator"]]
            if isinstance(this, exp.Distinct):
                distinct = True
                raw = [*this.expressions, e.args["separator"]]
        args = [] if (len(raw) == 1 and isinstance(raw[0], exp.Star)) else \
            [self.input_compiler.compile(a) for a in raw]
        for a in raw + [o.this for o in order]:
            if contains_aggregate(a):
                raise GroupingError("aggregate function calls cannot be nested")
        keys = []
        for o in order:
            desc = bool(o.args.get("desc"))
            nf = o.args.get("nulls_first")
            keys.append((self.input_compiler.compile(o.this), desc,
                         desc if nf is None else bool(nf)))
        if distinct and keys:
            arg_sql = {a.sql() for a in raw}
            if any(o.this.sql() not in arg_sql for o in order):
                raise InvalidColumnReference("in an aggregate with DISTINCT, ORDER BY "
                                             "expressions must appear in argument list")
        return AggSpec(**{**make_spec(name, args, distinct, self.input_compiler).__dict__,
                          "filter": filt, "order": keys})


def aggregate_rows(rows: Iterable[Sequence[Any]], params: Sequence[Any],
                   keys: list[Bound], specs: list[AggSpec], always_one: bool
                   ) -> Iterator[tuple[Any, ...]]:
    """Groups `rows`; yields (keys..., results...) per group (one row for no GROUP BY)."""
    key_fns = [k.fn for k in keys]
    gkeys = [k.type.group_key for k in keys]
    groups: dict[Any, tuple[tuple[Any, ...], list[Any], list[set[Any] | None]]] = {}
    arg_fns = [[a.fn for a in s.args] + [k.fn for k, _, _ in s.order] for s in specs]
    filters = [None if s.filter is None else s.filter.fn for s in specs]
    nargs = [len(s.args) for s in specs]
    dgk = [[a.type.group_key for a in s.args] for s in specs]
    for row in rows:
        kv = tuple(f(row, params) for f in key_fns)
        hk = tuple(v if g is None or v is None else g(v) for v, g in zip(kv, gkeys, strict=True))
        g = groups.get(hk)
        if g is None:
            g = (kv, [s.accumulator() for s in specs],
                 [set() if s.distinct else None for s in specs])
            groups[hk] = g
        accs, seen = g[1], g[2]
        for i, fns in enumerate(arg_fns):
            flt = filters[i]
            if flt is not None and flt(row, params) is not True:
                continue
            vals = [f(row, params) for f in fns]
            sn = seen[i]
            if sn is not None:
                dk = tuple(v if gk is None or v is None else gk(v)
                           for v, gk in zip(vals[:nargs[i]], dgk[i], strict=True))
                if dk in sn:
                    continue
                sn.add(dk)
            accs[i].step(*vals)
    if not groups and always_one:
        yield tuple(s.accumulator().final() for s in specs)
        return
    for kv, accs, _ in groups.values():
        yield kv + tuple(a.final() for a in accs)
