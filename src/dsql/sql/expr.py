"""Expression binding: a sqlglot expression -> (SQL type, compiled closure over a row).

    b = Compiler(scope, ctx, param_types).compile(parse_one("a + 1 > $1").find(exp.GT))
    b.type                     # BOOL
    b.fn(row, params)          # True / False / None

Every operator, function and cast goes through dsql.sql.functions.catalog and dsql.sql.casts,
so types, overloads, NULL handling and errors are the value layer's. Constant subtrees are
folded at bind time (as PostgreSQL's planner does). Aggregates are handled by an AggBinder
plugged into the compiler (see aggregate.py). `Compiler.volatile` is set when a constant was
folded from the transaction's time ('now'::timestamptz, 'today'::date): such plans are bound
again for every execution instead of being reused as they are. now(), current_timestamp and the
other time functions are not folded: they read the session's clock (ValueContext.clock) when
they run, so their plans are cached.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlglot import exp

from dsql.errors import CannotCoerce, DatatypeMismatch, FeatureNotSupported, SqlSyntaxError
from dsql.sql import casts
from dsql.sql.errors import GroupingError, UndefinedParameter
from dsql.sql.functions import catalog, comparison
from dsql.sql.functions import string as fstr
from dsql.sql.names import sqltype_of
from dsql.sql.scope import Scope
from dsql.sql.types import registry as r
from dsql.sql.types.context import ValueContext
from dsql.sql.types.registry import SqlType

Fn = Callable[[Sequence[Any], Sequence[Any]], Any]

_BINARY = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.Mod: "%",
           exp.Pow: "^", exp.DPipe: "||", exp.EQ: "=", exp.NEQ: "<>", exp.LT: "<",
           exp.LTE: "<=", exp.GT: ">", exp.GTE: ">=", exp.BitwiseAnd: "&",
           exp.BitwiseOr: "|", exp.BitwiseXor: "#", exp.JSONExtract: "->",
           exp.JSONExtractScalar: "->>"}
TIME_FUNCTIONS = {"now", "current_timestamp", "transaction_timestamp", "statement_timestamp",
                  "clock_timestamp", "current_date", "localtimestamp", "localtime", "age",
                  "current_time", "timeofday"}
VOLATILE = {"random", "clock_timestamp", "gen_random_uuid", "timeofday"}

# Casts PostgreSQL marks stable (they read DateStyle, TimeZone, lc_monetary or the catalog), so
# its planner does not fold them: a constant's stable cast fails only for a row that runs it.
# Through text: the types whose input / output function is stable; else pg_cast's functions.
_STRINGS = frozenset({"text", "varchar", "bpchar", "name"})
_STABLE_IN = frozenset({"date", "interval", "money", "time", "timestamp", "timestamptz",
                        "timetz", "xml", "regclass", "regtype", "regproc", "regprocedure",
                        "regoper", "regoperator", "regnamespace", "regrole", "regconfig"})
_STABLE_OUT = frozenset({"date", "interval", "money", "timestamp", "timestamptz", "regclass",
                         "regtype", "regproc", "regprocedure", "regoper", "regoperator",
                         "regnamespace", "regrole", "regconfig"})
_STABLE_CASTS = frozenset({("date", "timestamptz"), ("int4", "money"), ("int8", "money"),
                           ("money", "numeric"), ("numeric", "money"), ("time", "timetz"),
                           ("timestamp", "timestamptz"), ("timestamptz", "date"),
                           ("timestamptz", "time"), ("timestamptz", "timestamp"),
                           ("timestamptz", "timetz")})


# Functions PostgreSQL marks stable for every argument list (pg_proc.provolatile = 's'), whose
# constant calls can fail; catalog lookups are left folded. Mixed names: `stable_function`.
_STABLE_FUNCTIONS = frozenset({
    "to_char", "format", "concat", "concat_ws", "array_to_string", "to_json", "to_jsonb",
    "json_build_array", "json_build_object", "jsonb_build_array", "jsonb_build_object",
    "current_setting", "make_timestamptz", "age"})


def stable_function(name: str, declared: Sequence[SqlType]) -> bool:
    """Whether PostgreSQL's function `name` over `declared` is stable (not folded at plan)."""
    if name in _STABLE_FUNCTIONS:
        return True
    types = [d.base.name for d in declared]
    if name in ("date_part", "date_trunc", "extract", "timezone"):
        return "timestamptz" in types or "timetz" in types  # they read TimeZone
    if name in ("to_timestamp", "length"):  # (text, text) / (bytea, name)
        return len(types) == 2
    return False


def stable_cast(src: SqlType, dst: SqlType) -> bool:
    """Whether PostgreSQL's cast src -> dst is stable rather than immutable."""
    s, d = src.base.name, dst.base.name
    if s == d:
        return False
    if s in _STRINGS:
        return d in _STABLE_IN
    if d in _STRINGS:
        return s in _STABLE_OUT
    return (s, d) in _STABLE_CASTS
_DATETIME = {r.DATE.oid, r.TIME.oid, r.TIMESTAMP.oid, r.TIMESTAMPTZ.oid, r.INTERVAL.oid}
_SPECIAL_FUNCS = {exp.CurrentTimestamp: "now", exp.CurrentVersion: "version",
                  exp.CurrentSchema: "current_schema", exp.CurrentUser: "current_user",
                  exp.CurrentDate: "current_date", exp.CurrentTime: "localtime"}


@dataclass
class Bound:
    type: SqlType
    fn: Fn
    const: bool = False
    value: Any = None  # the value when const
    column: int | None = None  # a plain column reference: its row index
    param: int | None = None  # a plain parameter reference: its index


def const(t: SqlType, v: Any) -> Bound:
    return Bound(t, lambda row, p: v, True, v)


class AggBinder(Protocol):
    def intercept(self, e: exp.Expression, compiler: Compiler) -> Bound | None: ...


class SessionInfo(Protocol):
    def session_function(self, name: str) -> Any: ...


class Level:
    """One subquery nesting level. `correlated` is set when an expression inside it reads a
    column of an enclosing query (then the subquery runs once per outer row, not once)."""

    __slots__ = ("correlated",)

    def __init__(self) -> None:
        self.correlated = False


class Compiler:
    """Compiles expressions over one scope. `outer` is the compiler of the enclosing query
    (None at the top): a column not found in `scope` is looked up there, level by level, and
    reads the enclosing query's current row from `p.ec.outer` (a stack the subquery pushes)."""

    def __init__(self, scope: Scope, ctx: ValueContext, param_types: list[SqlType],
                 agg: AggBinder | None = None, session: SessionInfo | None = None) -> None:
        self.scope = scope
        self.ctx = ctx
        self.param_types = param_types
        self.agg = agg
        self.session = session
        self.volatile = False
        self.subquery_planner: Callable[[exp.Expression, Compiler], Bound] | None = None
        self.outer: Compiler | None = None
        self.level: Level | None = None
        self.binder: Any = None  # the select.Binder this compiler belongs to
        # parameter types inferred from use ($1 compared with an int4 column: int4), for
        # ParameterDescription, and their values are read by that type's input function before
        # the statement runs (as PostgreSQL does at Bind); shared by every compiler of one
        # statement
        self.inferred: dict[int, SqlType] = {}

    def with_scope(self, scope: Scope, agg: AggBinder | None = None) -> Compiler:
        c = Compiler(scope, self.ctx, self.param_types, agg, self.session)
        c.subquery_planner = self.subquery_planner
        c.outer, c.level, c.binder = self.outer, self.level, self.binder
        c.inferred = self.inferred
        return c

    # -- entry points ---------------------------------------------------------------------------
    def compile(self, e: exp.Expression) -> Bound:
        if self.agg is not None:
            hit = self.agg.intercept(e, self)
            if hit is not None:
                return hit
        handler = _HANDLERS.get(type(e))
        if handler is not None:
            b = handler(self, e)
            negate = e.args.get("negate") or (isinstance(e, exp.Escape)
                                              and e.this.args.get("negate"))  # NOT LIKE ESCAPE
            if negate and b.type.oid == r.BOOL.oid:
                f = b.fn
                if b.const:
                    return const(r.BOOL, None if b.value is None else not b.value)
                return Bound(r.BOOL, lambda row, p: None if (v := f(row, p)) is None else not v)
            return b
        if isinstance(e, exp.Func):
            if self.agg is None and _is_aggregate_call(e):
                raise GroupingError("aggregate functions are not allowed here")
            return self._function(e)
        raise FeatureNotSupported(f"expression {e.key.upper()} is not supported: {e.sql()}")

    def boolean(self, e: exp.Expression, what: str) -> Bound:
        return self.coerce(self.compile(e), r.BOOL, f"argument of {what}")

    def coerce(self, b: Bound, target: SqlType, what: str, context: str = casts.IMPLICIT
               ) -> Bound:
        """b converted to `target` (an unknown literal through the input function)."""
        if b.type.oid == target.oid and (target.typmod < 0 or b.type.typmod == target.typmod):
            return b
        if b.type.oid != r.UNKNOWN.oid and not casts.can_cast(b.type, target, context):
            raise DatatypeMismatch(f"{what} must be type {r.format_type(target)}, not type "
                                   f"{r.format_type(b.type.base)}")
        return self.cast(b, target, context)

    def _infer(self, b: Bound, t: SqlType) -> None:
        if b.param is not None and b.type.oid == r.UNKNOWN.oid and t.category not in "PX":
            self.inferred.setdefault(b.param, t.base)

    def cast(self, b: Bound, target: SqlType, context: str = casts.EXPLICIT) -> Bound:
        self._infer(b, target)
        if target.oid in _DATETIME and b.type.oid in (r.UNKNOWN.oid, r.TEXT.oid):
            self.volatile = True  # 'now', 'today' read the transaction time
        conv = casts.cast_fn(b.type, target, self.ctx, context)
        if b.const and (b.type.oid == r.UNKNOWN.oid or not stable_cast(b.type, target)):
            return const(target, None if b.value is None else conv(b.value))
        f = b.fn
        return Bound(target, lambda row, p: None if (v := f(row, p)) is None else conv(v))

    # -- leaves ---------------------------------------------------------------------------------
    def _column(self, e: exp.Column) -> Bound:
        if isinstance(e.this, exp.Star):
            raise FeatureNotSupported("* is not allowed here")
        qual = e.table or None
        if self.outer is not None and not self.scope.has(qual, e.name):
            return self._outer_column(e)
        c = self.scope.resolve(qual, e.name)
        i = c.index
        return Bound(c.type, lambda row, p: row[i], column=i)

    def _outer_column(self, e: exp.Column) -> Bound:
        """A column of an enclosing query: compiled by that query's compiler (so a GROUP BY
        there applies), evaluated on its current row, `depth` entries down the outer stack."""
        qual = e.table or None
        comp: Compiler | None = self
        depth = 0
        while comp is not None and comp.outer is not None:
            if comp.scope.has(qual, e.name):
                break
            depth += 1
            assert comp.level is not None, "a nested compiler has a level"
            comp.level.correlated = True
            comp = comp.outer
        if comp is None or depth == 0 or not comp.scope.has(qual, e.name):
            self.scope.resolve(qual, e.name)  # raises PostgreSQL's error for the innermost
            raise AssertionError("unreachable: the column resolved after all")
        b = comp.compile(e)
        f = b.fn
        if b.const:
            return b
        d = -depth
        return Bound(b.type, lambda row, p: f(p.ec.outer[d], p))

    def _literal(self, e: exp.Literal) -> Bound:
        text = e.this
        if e.is_string:
            return const(r.UNKNOWN, text)
        return number_literal(text)

    def _param(self, e: exp.Expression) -> Bound:
        name = e.this.this if isinstance(e.this, exp.Expression) else e.this
        try:
            n = int(str(name))
        except ValueError:
            raise SqlSyntaxError(f"syntax error at or near \"{e.sql()}\"") from None
        if n < 1 or n > len(self.param_types):
            raise UndefinedParameter(f"there is no parameter ${n}")
        i = n - 1
        return Bound(self.param_types[i], lambda row, p: p[i], param=i)

    # -- operators ------------------------------------------------------------------------------
    def operator(self, symbol: str, args: list[Bound]) -> Bound:
        res = catalog.resolve_operator(symbol, [a.type for a in args])
        self._check_literals(args, res.declared)
        for a, d in zip(args, res.declared, strict=True):
            self._infer(a, d)
        call = res.bind(self.ctx)
        return self._apply(res.result, call, args)

    def _apply(self, result: SqlType, call: Callable[..., Any], args: list[Bound],
               fold: bool = True) -> Bound:
        if fold and all(a.const for a in args):
            return const(result, call(*[a.value for a in args]))
        if len(args) == 2:
            f0, f1 = args[0].fn, args[1].fn
            return Bound(result, lambda row, p: call(f0(row, p), f1(row, p)))
        if len(args) == 1:
            f0 = args[0].fn
            return Bound(result, lambda row, p: call(f0(row, p)))
        fns = [a.fn for a in args]
        return Bound(result, lambda row, p: call(*[f(row, p) for f in fns]))

    def _binary(self, e: exp.Binary) -> Bound:
        if isinstance(e.expression, (exp.Any, exp.All)):
            return self._subquery(e)
        return self.operator(_BINARY[type(e)], [self.compile(e.this),
                                                self.compile(e.expression)])

    def _neg(self, e: exp.Neg) -> Bound:
        inner = e.this
        if isinstance(inner, exp.Literal) and not inner.is_string:
            return number_literal("-" + inner.this)
        return self.operator("-", [self.compile(inner)])

    def _paren(self, e: exp.Paren) -> Bound:
        return self.compile(e.this)

    def _and_or(self, e: exp.Expression) -> Bound:
        is_or = isinstance(e, exp.Or)
        label = "OR" if is_or else "AND"
        a = self.boolean(e.this, label)
        b = self.boolean(e.expression, label)
        fa, fb = a.fn, b.fn
        if is_or:
            def f_or(row: Sequence[Any], p: Sequence[Any]) -> Any:
                x = fa(row, p)
                if x is True:
                    return True
                y = fb(row, p)
                if y is True:
                    return True
                return None if x is None or y is None else False
            fn = f_or
        else:
            def f_and(row: Sequence[Any], p: Sequence[Any]) -> Any:
                x = fa(row, p)
                if x is False:
                    return False
                y = fb(row, p)
                if y is False:
                    return False
                return None if x is None or y is None else True
            fn = f_and
        if a.const and b.const:
            return const(r.BOOL, fn((), ()))
        return Bound(r.BOOL, fn)

    def _not(self, e: exp.Not) -> Bound:
        a = self.boolean(e.this, "NOT")
        f = a.fn
        if a.const:
            return const(r.BOOL, None if a.value is None else not a.value)
        return Bound(r.BOOL, lambda row, p: None if (v := f(row, p)) is None else not v)

    def _is(self, e: exp.Is) -> Bound:
        target = e.expression
        a = self.compile(e.this)
        f = a.fn
        if isinstance(target, exp.Null):
            return Bound(r.BOOL, lambda row, p: f(row, p) is None)
        if isinstance(target, exp.Boolean):
            want = target.this
            a = self.coerce(a, r.BOOL, "argument of IS TRUE")
            f = a.fn
            return Bound(r.BOOL, lambda row, p: f(row, p) is want)
        raise FeatureNotSupported(f"IS {target.sql()} is not supported")

    def _distinct_from(self, e: exp.Expression) -> Bound:
        a, b = self.compile(e.this), self.compile(e.expression)
        eq = catalog.resolve_operator("=", [a.type, b.type]).bind(self.ctx)
        fa, fb = a.fn, b.fn
        same = isinstance(e, exp.NullSafeEQ)

        def f(row: Sequence[Any], p: Sequence[Any]) -> bool:
            x, y = fa(row, p), fb(row, p)
            if x is None or y is None:
                return (x is None and y is None) == same
            return bool(eq(x, y)) == same
        return Bound(r.BOOL, f)

    def _in(self, e: exp.In) -> Bound:
        if e.args.get("query") is not None:
            return self._subquery(e)
        if len(e.expressions) == 1 and isinstance(e.expressions[0], exp.Values):
            # x IN (VALUES (1), (2)): a subquery over the VALUES list
            return self._subquery(exp.In(this=e.this, query=exp.Subquery(
                this=e.expressions[0])))
        a = self.compile(e.this)
        items = [self.compile(x) for x in e.expressions]
        try:
            common = comparison.select_common_type([a.type] + [i.type for i in items], "IN")
        except (DatatypeMismatch, CannotCoerce):
            # PostgreSQL then falls back to x = item1 OR x = item2 ... (42883 if no operator)
            return self._in_ors(a, items)
        a = self.coerce(a, common, "IN")
        items = [self.coerce(i, common, "IN") for i in items]
        eq = catalog.resolve_operator("=", [common, common]).bind(self.ctx)
        fa = a.fn
        if all(i.const for i in items):
            vals = [i.value for i in items]
            has_null = any(v is None for v in vals)
            vals = [v for v in vals if v is not None]

            def f_const(row: Sequence[Any], p: Sequence[Any]) -> Any:
                x = fa(row, p)
                if x is None:
                    return None
                for v in vals:
                    if eq(x, v):
                        return True
                return None if has_null else False
            return Bound(r.BOOL, f_const)
        fns = [i.fn for i in items]

        def f(row: Sequence[Any], p: Sequence[Any]) -> Any:
            x = fa(row, p)
            if x is None:
                return None
            saw_null = False
            for g in fns:
                v = g(row, p)
                if v is None:
                    saw_null = True
                elif eq(x, v):
                    return True
            return None if saw_null else False
        return Bound(r.BOOL, f)

    def _in_ors(self, a: Bound, items: list[Bound]) -> Bound:
        eqs = [self.operator("=", [a, i]).fn for i in items]

        def f(row: Sequence[Any], p: Sequence[Any]) -> Any:
            saw_null = False
            for g in eqs:
                v = g(row, p)
                if v is True:
                    return True
                saw_null |= v is None
            return None if saw_null else False
        return Bound(r.BOOL, f)

    def _between(self, e: exp.Between) -> Bound:
        x, low, high = e.this, e.args["low"], e.args["high"]
        plain = self._between_fn(x, low, high)
        if not e.args.get("symmetric"):
            return Bound(r.BOOL, plain)
        # BETWEEN SYMMETRIC: (x BETWEEN low AND high) OR (x BETWEEN high AND low)
        swapped = self._between_fn(x, high, low)

        def f(row: Sequence[Any], p: Sequence[Any]) -> Any:
            a = plain(row, p)
            if a is True:
                return True
            b = swapped(row, p)
            if b is True:
                return True
            return None if a is None or b is None else False
        return Bound(r.BOOL, f)

    def _between_fn(self, x: exp.Expression, low: exp.Expression, high: exp.Expression
                    ) -> Fn:
        lo = self.operator(">=", [self.compile(x), self.compile(low)])
        hi = self.operator("<=", [self.compile(x), self.compile(high)])
        fl, fh = lo.fn, hi.fn

        def f(row: Sequence[Any], p: Sequence[Any]) -> Any:
            a = fl(row, p)
            if a is False:
                return False
            b = fh(row, p)
            if b is False:
                return False
            return None if a is None or b is None else True
        return f

    def _like(self, e: exp.Expression) -> Bound:
        escape = "\\"
        node = e
        if isinstance(e, exp.Escape):
            node = e.this
            esc = self.compile(e.expression)
            if not esc.const:
                raise FeatureNotSupported("a non-constant LIKE escape is not supported")
            escape = esc.value
        ci = isinstance(node, exp.ILike)
        a = self.coerce(self.compile(node.this), r.TEXT, "LIKE", casts.IMPLICIT)
        pat = self.coerce(self.compile(node.expression), r.TEXT, "LIKE", casts.IMPLICIT)
        fa = a.fn
        if pat.const:
            if pat.value is None:
                return const(r.BOOL, None)
            m = fstr.like_matcher(pat.value, escape, ci)
            return Bound(r.BOOL, lambda row, p: None if (v := fa(row, p)) is None else m(v))
        fp = pat.fn

        def f(row: Sequence[Any], p: Sequence[Any]) -> Any:
            v, q = fa(row, p), fp(row, p)
            if v is None or q is None:
                return None
            return fstr.like_matcher(q, escape, ci)(v)
        return Bound(r.BOOL, f)

    def _cast(self, e: exp.Cast) -> Bound:
        target = sqltype_of(e.to)
        return self.cast(self.compile(e.this), target, casts.EXPLICIT)

    def _interval(self, e: exp.Interval) -> Bound:
        inner = self.compile(e.this)
        unit = e.args.get("unit")
        if unit is not None:
            if not inner.const:
                raise FeatureNotSupported("INTERVAL with a unit needs a constant")
            inner = const(r.UNKNOWN, f"{inner.value} {unit.name}")
        return self.cast(inner, r.INTERVAL, casts.EXPLICIT)

    # -- CASE, COALESCE, NULLIF, GREATEST, LEAST --------------------------------------------------
    def _common(self, bounds: list[Bound], label: str) -> tuple[SqlType, list[Fn]]:
        t = comparison.select_common_type([b.type for b in bounds], label)
        if t.oid == r.UNKNOWN.oid:
            t = r.TEXT
        return t, [self.coerce(b, t, label).fn for b in bounds]

    def _case(self, e: exp.Case) -> Bound:
        operand = e.this
        ifs = e.args.get("ifs") or []
        conds: list[Fn] = []
        if operand is not None:
            op = self.compile(operand)
            if op.type.oid == r.UNKNOWN.oid:  # PostgreSQL reads an untyped operand as text
                op = self.coerce(op, r.TEXT, "CASE")
            for i in ifs:
                conds.append(self.operator("=", [op, self.compile(i.this)]).fn)
        else:
            conds = [self.boolean(i.this, "CASE").fn for i in ifs]
        vals = [self.compile(i.args["true"]) for i in ifs]
        default = e.args.get("default")
        vals.append(self.compile(default) if default is not None else const(r.UNKNOWN, None))
        # PostgreSQL resolves the ELSE result first (it decides varchar vs text)
        t, fns = self._common([vals[-1], *vals[:-1]], "CASE")
        pairs = list(zip(conds, fns[1:], strict=True))
        dflt = fns[0]

        def f(row: Sequence[Any], p: Sequence[Any]) -> Any:
            for c, v in pairs:
                if c(row, p) is True:
                    return v(row, p)
            return dflt(row, p)
        return Bound(t, f)

    def _coalesce(self, e: exp.Coalesce) -> Bound:
        args = [self.compile(x) for x in [e.this, *e.expressions]]
        t, fns = self._common(args, "COALESCE")

        def f(row: Sequence[Any], p: Sequence[Any]) -> Any:
            for g in fns:
                v = g(row, p)
                if v is not None:
                    return v
            return None
        return Bound(t, f)

    def _nullif(self, e: exp.Nullif) -> Bound:
        a, b = self.compile(e.this), self.compile(e.expression)
        resolved = catalog.resolve_operator("=", [a.type, b.type])
        eq = resolved.bind(self.ctx)
        fa, fb = a.fn, b.fn
        t = a.type if a.type.oid != r.UNKNOWN.oid else r.TEXT
        # PostgreSQL returns the = operator's left input: NULLIF(int4, float8) is float8
        left = resolved.declared[0]
        conv: Callable[[Any], Any] | None = None
        if left.oid != a.type.oid and left.category != "P":
            conv = casts.cast_fn(a.type, left, self.ctx, casts.IMPLICIT)
            t = left

        def f(row: Sequence[Any], p: Sequence[Any]) -> Any:
            x = fa(row, p)
            if x is None or eq(x, fb(row, p)):
                return None
            return x if conv is None else conv(x)
        return Bound(t, f)

    def _greatest(self, e: exp.Expression) -> Bound:
        least = isinstance(e, exp.Least)
        label = "LEAST" if least else "GREATEST"
        args = [self.compile(x) for x in [e.this, *e.expressions]]
        t, fns = self._common(args, label)
        cmp = comparison.compare_fn(t)

        def f(row: Sequence[Any], p: Sequence[Any]) -> Any:
            best = None
            for g in fns:
                v = g(row, p)
                if v is not None and (best is None or (cmp(v, best) < 0 if least
                                                       else cmp(v, best) > 0)):
                    best = v
            return best
        return Bound(t, f)

    # -- functions ------------------------------------------------------------------------------
    def _check_literals(self, args: list[Bound], declared: Sequence[SqlType]) -> None:
        """PostgreSQL reads a string literal given for a typed parameter while it parses the
        statement ('x' + n fails with 22P02 even if no row is read); the call itself still
        converts per row."""
        for a, d in zip(args, declared, strict=False):
            if a.type.oid != r.UNKNOWN.oid or d.category == "P" or d.oid == r.UNKNOWN.oid:
                continue
            if a.const and a.value is not None:
                casts.cast_fn(r.UNKNOWN, d, self.ctx, casts.IMPLICIT)(a.value)

    def _function(self, e: exp.Func) -> Bound:
        name, args = function_parts(e)
        if self.session is not None and not args:
            v = self.session.session_function(name)
            if v is not None:
                return const(v[0], v[1])
        # (now() and the other TIME_FUNCTIONS run at execution, never folded; they read the
        # session's clock through the context, so their plans are cached like any other)
        bound = [self.compile(a) for a in args]
        res = catalog.resolve_function(name, [b.type for b in bound])
        self._check_literals(bound, res.declared)
        for a, d in zip(bound, res.declared, strict=True):
            self._infer(a, d)
        call = res.bind(self.ctx)
        return self._apply(res.result, call, bound, fold=name not in VOLATILE
                           and name not in TIME_FUNCTIONS
                           and not stable_function(name, res.declared))

    def _subquery(self, e: exp.Expression) -> Bound:
        if self.subquery_planner is None:
            raise FeatureNotSupported("subqueries are not supported here")
        return self.subquery_planner(e, self)


def number_literal(text: str) -> Bound:
    from decimal import Decimal

    from dsql.sql.types import numeric
    if text.lstrip("-").isdigit():
        v = int(text)
        if -(1 << 31) <= v < (1 << 31):
            return const(r.INT4, v)
        if -(1 << 63) <= v < (1 << 63):
            return const(r.INT8, v)
        return const(r.NUMERIC, Decimal(v))
    return const(r.NUMERIC, numeric.numeric_in(text))


def _is_aggregate_call(e: exp.Func) -> bool:
    from dsql.sql.aggregate import is_aggregate  # aggregate.py imports this module

    return is_aggregate(e)


def _to_char_template(strftime: str) -> str:
    from sqlglot.dialects.postgres import Postgres
    from sqlglot.time import format_time

    out = format_time(strftime, Postgres.INVERSE_TIME_MAPPING, Postgres.INVERSE_TIME_TRIE)
    assert out is not None
    return out


def function_parts(e: exp.Func) -> tuple[str, list[exp.Expression]]:
    """PostgreSQL's name and the argument expressions of a sqlglot function node."""
    if isinstance(e, exp.Anonymous):
        return e.name.lower(), list(e.expressions)
    special = _SPECIAL_FUNCS.get(type(e))
    if special is not None:
        return special, []
    if isinstance(e, exp.Extract):
        return "extract", [exp.Literal.string(e.this.name.lower()), e.expression]
    if isinstance(e, exp.Substring):
        return "substring", [a for a in (e.this, e.args.get("start"), e.args.get("length"))
                             if a is not None]
    if isinstance(e, (exp.DateTrunc, exp.TimestampTrunc)):
        unit = e.args["unit"]
        if not isinstance(unit, exp.Literal):  # sqlglot turns 'week' into Var(WEEK)
            unit = exp.Literal.string(unit.name.lower())
        return "date_trunc", [unit, e.this]
    if isinstance(e, exp.Pad):  # sqlglot's one node for lpad and rpad
        return ("lpad" if e.args.get("is_left") else "rpad"), [
            a for a in (e.this, e.expression, e.args.get("fill_pattern")) if a is not None]
    if isinstance(e, exp.Initcap):  # sqlglot adds its default delimiters as an argument
        return "initcap", [e.this]
    if isinstance(e, (exp.Hex, exp.LowerHex)):  # to_hex(n); lower(to_hex(n)) is the same
        return "to_hex", [e.this]
    if isinstance(e, exp.Log) and e.expression is not None and \
            isinstance(e.this, exp.Literal) and e.this.this == "10":
        # sqlglot reads log10(x) as log(10, x); PostgreSQL's log10 is log(x), base 10
        return "log10", [e.expression]
    if isinstance(e, exp.TimeToStr):
        # sqlglot rewrote to_char's template into strftime codes; write it back
        fmt = e.args["format"]
        if isinstance(fmt, exp.Literal) and fmt.is_string:
            fmt = exp.Literal.string(_to_char_template(fmt.this))
        return "to_char", [e.this, fmt]
    if isinstance(e, exp.StrPosition):
        return "strpos", [e.this, e.args["substr"]]
    if isinstance(e, exp.Trim):
        kind = (e.args.get("position") or "BOTH").upper()
        fname = {"LEADING": "ltrim", "TRAILING": "rtrim"}.get(kind, "btrim")
        chars = e.expression
        return fname, [e.this] + ([chars] if chars is not None else [])
    name = e.sql_name().lower()
    args: list[exp.Expression] = []
    for key in e.arg_types:
        v = e.args.get(key)
        if v is None:
            continue
        if isinstance(v, list):
            args.extend(v)
        elif isinstance(v, exp.Expression):
            args.append(v)
    return {"pow": "power", "ln": "ln", "stddev": "stddev", "array_agg": "array_agg",
            "group_concat": "string_agg", "char_length": "length",
            "ceil": "ceil"}.get(name, name), args


_HANDLERS: dict[type, Callable[[Compiler, Any], Bound]] = {
    exp.Column: Compiler._column,
    exp.Literal: Compiler._literal,
    exp.ByteString: lambda c, e: const(r.UNKNOWN, e.this),  # E'...' (sqlglot unescaped it)
    exp.IntDiv: lambda c, e: c._function(exp.Anonymous(this="div",
                                                       expressions=[e.this, e.expression])),
    exp.Null: lambda c, e: const(r.UNKNOWN, None),
    exp.Boolean: lambda c, e: const(r.BOOL, bool(e.this)),
    # x AT TIME ZONE z is the function timezone(z, x)
    exp.AtTimeZone: lambda c, e: c._function(
        exp.Anonymous(this="timezone", expressions=[e.args["zone"], e.this])),
    exp.Parameter: Compiler._param,
    exp.Placeholder: Compiler._param,
    exp.Neg: Compiler._neg,
    exp.Paren: Compiler._paren,
    exp.And: Compiler._and_or,
    exp.Or: Compiler._and_or,
    exp.Not: Compiler._not,
    exp.Is: Compiler._is,
    exp.NullSafeEQ: Compiler._distinct_from,
    exp.NullSafeNEQ: Compiler._distinct_from,
    exp.In: Compiler._in,
    exp.Between: Compiler._between,
    exp.Like: Compiler._like,
    exp.ILike: Compiler._like,
    exp.Escape: Compiler._like,
    exp.Cast: Compiler._cast,
    exp.TryCast: Compiler._cast,
    exp.Interval: Compiler._interval,
    exp.Case: Compiler._case,
    exp.Coalesce: Compiler._coalesce,
    exp.Nullif: Compiler._nullif,
    exp.Greatest: Compiler._greatest,
    exp.Least: Compiler._greatest,
    exp.Exists: Compiler._subquery,
    exp.Subquery: Compiler._subquery,
}
for _cls in _BINARY:
    _HANDLERS[_cls] = Compiler._binary
