"""Expression forms catalog queries use, added to the expression compiler (dsql.sql.expr):

    pg_catalog.f(x)              schema-qualified function calls
    a OPERATOR(pg_catalog.~) b   explicitly named operators
    x COLLATE "C"                collations (dsql compares in C order: the clause is accepted)
    x ~ 're', x ~* 're'          POSIX regular expressions (operators in functions/introspection)
    x = ANY (array), x <> ALL (array), x = ANY (SELECT ...)
    ARRAY[a, b], ARRAY(SELECT ...), arr[i]

Importing the module registers the handlers (expr._HANDLERS is the compiler's dispatch table).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlglot import exp

from dsql.errors import DatatypeMismatch, FeatureNotSupported
from dsql.sql import casts, expr
from dsql.sql.errors import UndefinedColumn, UndefinedTable
from dsql.sql.expr import Bound, Compiler, const
from dsql.sql.functions import comparison
from dsql.sql.system import types as st
from dsql.sql.types import array as arr
from dsql.sql.types import registry as r
from dsql.sql.types.registry import SqlType

_SCHEMAS = ("pg_catalog", "information_schema", "public")


def _dot(c: Compiler, e: exp.Dot) -> Bound:
    head, tail = e.this, e.expression
    if isinstance(head, exp.Identifier) and head.name.lower() in _SCHEMAS and \
            isinstance(tail, exp.Func):
        return c.compile(tail)
    raise FeatureNotSupported(f"expression {e.sql(dialect='postgres')} is not supported")


def _operator(c: Compiler, e: exp.Operator) -> Bound:
    symbol = str(e.args.get("operator") or "").strip()
    if "." in symbol:
        symbol = symbol.rsplit(".", 1)[1]
    return c.operator(symbol, [c.compile(e.this), c.compile(e.expression)])


def _collate(c: Compiler, e: exp.Collate) -> Bound:
    return c.compile(e.this)


def _regexp(c: Compiler, e: exp.Expression) -> Bound:
    symbol = "~*" if isinstance(e, exp.RegexpILike) else "~"
    return c.operator(symbol, [c.compile(e.this), c.compile(e.expression)])


def element_type(t: SqlType) -> SqlType | None:
    return st.ELEMENT_OF.get(t.oid)


def _array(c: Compiler, e: exp.Array) -> Bound:
    items = list(e.expressions)
    if len(items) == 1 and isinstance(items[0], (exp.Select, exp.Union, exp.Subquery)):
        if c.subquery_planner is None:
            raise FeatureNotSupported("ARRAY(SELECT ...) is not supported here")
        return c.subquery_planner(e, c)
    bounds = [c.compile(x) for x in items]
    if not bounds:
        return const(r.TEXT_ARRAY, [])
    t = comparison.select_common_type([b.type for b in bounds], "ARRAY")
    if t.oid == r.UNKNOWN.oid:
        t = r.TEXT
    at = st.array_type_of(t)
    if at is None:
        raise FeatureNotSupported(f"arrays of {r.format_type(t)} are not supported")
    fns = [c.coerce(b, t, "ARRAY").fn for b in bounds]
    if all(b.const for b in bounds):
        return const(at, [f((), ()) for f in fns])
    return Bound(at, lambda row, p: [f(row, p) for f in fns])


def array_result_type(elem: SqlType) -> SqlType:
    at = st.array_type_of(elem)
    if at is None:
        raise FeatureNotSupported(f"arrays of {r.format_type(elem)} are not supported")
    return at


def _bracket(c: Compiler, e: exp.Bracket) -> Bound:
    base = c.compile(e.this)
    elem = element_type(base.type)
    if elem is None and base.type.oid in (st.INT2VECTOR.oid, st.OIDVECTOR.oid):
        elem = r.INT2 if base.type.oid == st.INT2VECTOR.oid else st.OID
        zero_based = True
    else:
        zero_based = False
    if elem is None or len(e.expressions) != 1 or isinstance(e.expressions[0], exp.Slice):
        raise DatatypeMismatch(f"cannot subscript type {r.format_type(base.type)} because it "
                               "does not support subscripting")
    idx = c.coerce(c.compile(e.expressions[0]), r.INT4, "array subscript")
    fb, fi = base.fn, idx.fn
    off = 0 if zero_based else 1

    def f(row: Sequence[Any], p: Sequence[Any]) -> Any:
        a, i = fb(row, p), fi(row, p)
        if a is None or i is None or not 0 <= i - off < len(a):
            return None
        return a[i - off]
    return Bound(elem, f)


_CMP = {exp.EQ: "=", exp.NEQ: "<>", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">="}


def _comparison(c: Compiler, e: exp.Binary) -> Bound:
    rhs = e.expression
    if isinstance(rhs, (exp.Any, exp.All)):
        return _quantified(c, e, rhs)
    return Compiler._binary(c, e)


def _quantified(c: Compiler, e: exp.Binary, q: exp.Expression) -> Bound:
    symbol = _CMP[type(e)]
    inner = q.this
    while isinstance(inner, exp.Paren):
        inner = inner.this
    is_any = isinstance(q, exp.Any)
    if isinstance(inner, (exp.Select, exp.SetOperation, exp.Subquery)):
        return Compiler._binary(c, e)  # op ANY / ALL (subquery): dsql.sql.subquery
    left = c.compile(e.this)
    right = c.compile(inner)
    if right.type.oid == r.UNKNOWN.oid:
        lt = left.type if left.type.oid != r.UNKNOWN.oid else r.TEXT
        at = st.array_type_of(lt)
        if at is None:
            raise FeatureNotSupported(f"arrays of {r.format_type(lt)} are not supported")
        right = c.cast(right, at, casts.IMPLICIT)
    elem = element_type(right.type)
    if elem is None:
        raise DatatypeMismatch("op ANY/ALL (array) requires array on right side")
    cmp = c.operator(symbol, [Bound(left.type, lambda row, p: row[0]),
                              Bound(elem, lambda row, p: row[1])]).fn
    fl, fr = left.fn, right.fn

    def f(row: Sequence[Any], p: Sequence[Any]) -> Any:
        x, a = fl(row, p), fr(row, p)
        if a is None:
            return None
        if not a:
            return not is_any
        if x is None:
            return None
        saw_null = False
        for v in a:
            res = None if v is None else cmp((x, v), p)
            if res is None:
                saw_null = True
            elif res is is_any:
                return is_any
        return None if saw_null else not is_any
    return Bound(r.BOOL, f)


def array_text(items: list[Any], elem: SqlType) -> str:
    return arr.array_out(items, elem.output_fn())


def _register() -> None:
    h = expr._HANDLERS
    h[exp.Dot] = _dot
    h[exp.Operator] = _operator
    h[exp.Collate] = _collate
    h[exp.RegexpLike] = _regexp
    h[exp.RegexpILike] = _regexp
    h[exp.Array] = _array
    h[exp.Bracket] = _bracket
    for cls in _CMP:
        h[cls] = _comparison
    expr.VOLATILE.update({"set_config", "current_setting", "pg_backend_pid"})


_register()


_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|[0-7]{1,3}|.)", re.S)
_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def escape_string(raw: str) -> str:
    """The value of an E'...' literal (PostgreSQL's backslash escapes)."""
    def one(m: re.Match[str]) -> str:
        g = m.group(1)
        if g[0] in "xuU" and len(g) > 1:
            return chr(int(g[1:], 16))
        if g[0].isdigit() and g[0] in "01234567":
            return chr(int(g, 8))
        return _SIMPLE.get(g, g)
    return _ESCAPE.sub(one, raw)


expr._HANDLERS[exp.ByteString] = lambda c, e: const(r.UNKNOWN, escape_string(e.this))


_BARE_FUNCTIONS = ("user", "current_role", "current_catalog", "session_user", "current_user")


def _column_or_keyword(c: Compiler, e: exp.Column) -> Bound:
    """A column; failing that, the SQL keywords that look like columns (USER, CURRENT_ROLE)."""
    try:
        return Compiler._column(c, e)
    except (UndefinedColumn, UndefinedTable):
        name = e.name.lower()
        if e.table or name not in _BARE_FUNCTIONS or c.session is None:
            raise
        v = c.session.session_function(name)
        if v is None:
            raise
        return const(v[0], v[1])


expr._HANDLERS[exp.Column] = _column_or_keyword
