"""generate_series as a FROM item: integers, numerics, and timestamps stepped by an interval.

    SELECT * FROM generate_series(1, 10, 4)                                  -- 1, 5, 9
    SELECT * FROM generate_series(1.0, 2, 0.5)                               -- 1.0, 1.5, 2.0
    SELECT * FROM generate_series('2020-01-01'::timestamp, '2020-01-02', '12 hours')

Overloads as PostgreSQL resolves them: int4 unless an argument is int8 (int8) or numeric
(numeric); timestamp or timestamptz (the default for unknown literals) with an interval step.
A zero step is 22023. A series is produced lazily, so `LIMIT` stops an endless one early, but
a series longer than SERIES_ROWS_MAX is cut off with 54000 rather than running out of memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from dsql.errors import FeatureNotSupported, InvalidParameterValue
from dsql.sql.functions import catalog, comparison
from dsql.sql.plan import ExecContext
from dsql.sql.scope import Scope
from dsql.sql.types import registry as r
from dsql.storage.interval import Interval
from dsql.txn.interrupt import checked

if TYPE_CHECKING:
    from dsql.sql.select import Binder, FromItem

Row = tuple[Any, ...]
SERIES_ROWS_MAX = 100_000_000
_INTS = {r.INT2.oid, r.INT4.oid, r.INT8.oid}
_TIMES = {r.TIMESTAMP.oid, r.TIMESTAMPTZ.oid, r.DATE.oid}


def _result_type(types: list[r.SqlType]) -> r.SqlType:
    oids = {t.oid for t in types[:2]}
    if oids & _TIMES or (len(types) == 3 and types[2].oid == r.INTERVAL.oid):
        if r.TIMESTAMP.oid in oids and r.TIMESTAMPTZ.oid not in oids:
            return r.TIMESTAMP
        return r.TIMESTAMPTZ
    if all(t.oid in _INTS | {r.UNKNOWN.oid} for t in types):
        return r.INT8 if any(t.oid == r.INT8.oid for t in types) else r.INT4
    if all(t.oid in _INTS | {r.UNKNOWN.oid, r.NUMERIC.oid} for t in types):
        return r.NUMERIC
    names = ", ".join(r.format_type(t) for t in types)
    from dsql.errors import UndefinedFunction
    raise UndefinedFunction(f"function generate_series({names}) does not exist",
                            hint="No function matches the given name and argument types. You "
                                 "might need to add explicit type casts.")


def series_item(b: Binder, node: exp.Table) -> FromItem:
    from dsql.sql.select import FromItem
    f = node.this
    raw = list(f.expressions) if isinstance(f, exp.Anonymous) else \
        [a for a in (f.args.get("start"), f.args.get("end"), f.args.get("step")) if a is not None]
    if len(raw) not in (2, 3):
        raise FeatureNotSupported("generate_series takes two or three arguments")
    comp = b.compiler
    args = [comp.compile(a) for a in raw]
    t = _result_type([a.type for a in args])
    step_type = r.INTERVAL if t.oid in _TIMES else t
    if t.oid in _TIMES and len(args) != 3:
        raise FeatureNotSupported("generate_series over timestamps needs an interval step")
    args = [comp.coerce(a, t, "generate_series") for a in args[:2]] + \
        [comp.coerce(a, step_type, "generate_series") for a in args[2:]]
    b.volatile |= comp.volatile
    alias = node.alias_or_name or "generate_series"
    ta = node.args.get("alias")
    col = ta.columns[0].name if ta is not None and ta.columns else alias
    scope = Scope()
    scope.add_relation(alias, [(col, t)])
    fns = [a.fn for a in args]
    if t.oid in _TIMES:
        add = catalog.resolve_operator("+", [t, r.INTERVAL]).bind(comp.ctx)
        cmp = comparison.compare_fn(t)
        return FromItem(scope, _interruptible(_stepper(fns, add, cmp, _interval_sign)))
    if t.oid == r.NUMERIC.oid:
        return FromItem(scope, _interruptible(
            _stepper(fns, lambda a, s: a + s, _cmp, _sign, Decimal(1))))

    def ints(ec: ExecContext) -> Iterator[Row]:
        vals = [f((), ec.params) for f in fns]
        if any(v is None for v in vals):
            return iter(())
        step = vals[2] if len(vals) > 2 else 1
        if step == 0:
            raise InvalidParameterValue("step size cannot equal zero")
        stop = vals[1] + (1 if step > 0 else -1)
        return checked(((v,) for v in range(vals[0], stop, step)), ec.txn.interrupt)
    return FromItem(scope, ints)


def _interruptible(gen: Callable[[ExecContext], Iterator[Row]]
                   ) -> Callable[[ExecContext], Iterator[Row]]:
    """`gen` with the statement's cancel / timeout check every CHECK_EVERY_ROWS rows."""
    return lambda ec: checked(gen(ec), ec.txn.interrupt)


def _cmp(a: Any, b: Any) -> int:
    return (a > b) - (a < b)


def _sign(v: Any) -> int:
    return (v > 0) - (v < 0)


def _interval_sign(v: Interval) -> int:
    # PostgreSQL compares an interval with zero as months*30 days + days + time
    total = (v.months * 30 + v.days) * 86_400_000_000 + v.microseconds
    return (total > 0) - (total < 0)


def _stepper(fns: list[Callable[..., Any]], add: Callable[[Any, Any], Any],
             cmp: Callable[[Any, Any], int], sign: Callable[[Any], int],
             default_step: Any = None) -> Callable[[ExecContext], Iterator[Row]]:
    def gen(ec: ExecContext) -> Iterator[Row]:
        vals = [f((), ec.params) for f in fns]
        if len(vals) == 2:
            vals.append(default_step)
        if any(v is None for v in vals):
            return
        cur, stop, step = vals
        if isinstance(cur, Decimal) and (cur.is_nan() or stop.is_nan() or step.is_nan()):
            raise InvalidParameterValue("start value cannot be NaN" if cur.is_nan() else
                                        "stop value cannot be NaN" if stop.is_nan() else
                                        "step size cannot be NaN")
        direction = sign(step)
        if direction == 0:
            raise InvalidParameterValue("step size cannot equal zero")
        n = 0
        while cmp(cur, stop) * direction <= 0:
            n += 1
            if n > SERIES_ROWS_MAX:
                from dsql.sql.ctes import ProgramLimitExceeded
                raise ProgramLimitExceeded(f"generate_series exceeded {SERIES_ROWS_MAX} rows")
            yield (cur,)
            cur = add(cur, step)
    return gen
