"""A small SQL scalar-expression evaluator over dsql's value layer, for tests.

Goal: let data files and differential tests write plain PostgreSQL expressions
('1::int4 + 2', 'extract(epoch from ts)', "'a' || 1", 'CASE WHEN ... END') and evaluate them
with dsql's types, casts and function catalog, giving the text PostgreSQL would print or the
error it would raise. Method: a Pratt parser with PostgreSQL's operator precedence builds a
tree; binding resolves each operator and function through dsql.sql.functions.catalog (so the
overload resolution is under test too); evaluation is constant folding.

This is test machinery, not the engine's parser (which will be sqlglot-based).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dsql.errors import DsqlError, SqlSyntaxError
from dsql.sql import casts
from dsql.sql.functions import catalog, comparison
from dsql.sql.functions import string as fstr
from dsql.sql.types import registry as r
from dsql.sql.types.context import DEFAULT_CONTEXT, ValueContext
from dsql.sql.types.registry import SqlType

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>[Ee]?'(?:[^']|'')*')
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<qid>"(?:[^"]|"")*")
  | (?P<id>[A-Za-z_][A-Za-z_0-9$]*)
  | (?P<op>::|[+\-*/<>=~!@#%^&|`?]+|[(),\[\].])
""", re.VERBOSE)

KEYWORDS = {"and", "or", "not", "is", "null", "true", "false", "like", "ilike", "between",
            "in", "case", "when", "then", "else", "end", "cast", "as", "distinct", "from",
            "escape", "at", "for", "isnull", "notnull", "symmetric"}


@dataclass
class Tok:
    kind: str
    text: str


def tokenize(sql: str) -> list[Tok]:
    out: list[Tok] = []
    pos = 0
    while pos < len(sql):
        m = _TOKEN.match(sql, pos)
        if m is None:
            raise SqlSyntaxError(f"syntax error at or near \"{sql[pos]}\"")
        pos = m.end()
        kind = m.lastgroup
        assert kind is not None
        if kind == "ws":
            continue
        text = m.group(0)
        if kind == "op" and len(text) > 1 and text not in ("::",):
            # PostgreSQL: a multi-char operator cannot end in + or - unless it has ~!@#%^&|`?
            while len(text) > 1 and text[-1] in "+-" and not any(c in text for c in "~!@#%^&|`?"):
                text = text[:-1]
            pos = m.start() + len(text)
        out.append(Tok(kind, text))
    out.append(Tok("eof", ""))
    return out


# -- tree ---------------------------------------------------------------------------------------

class Node(ABC):
    @abstractmethod
    def bind(self, ctx: ValueContext) -> tuple[SqlType, Callable[[], Any]]:
        """The node's result type and a closure computing its value."""


@dataclass
class Const(Node):
    type: SqlType
    value: Any

    def bind(self, ctx: ValueContext) -> tuple[SqlType, Callable[[], Any]]:
        v = self.value
        return self.type, lambda: v


@dataclass
class Cast(Node):
    arg: Node
    type: SqlType

    def bind(self, ctx: ValueContext) -> tuple[SqlType, Callable[[], Any]]:
        st, f = self.arg.bind(ctx)
        conv = casts.cast_fn(st, self.type, ctx, casts.EXPLICIT)

        def run() -> Any:
            v = f()
            return None if v is None else conv(v)
        return self.type, run


@dataclass
class Call(Node):
    name: str
    args: list[Node]
    is_op: bool = False

    def bind(self, ctx: ValueContext) -> tuple[SqlType, Callable[[], Any]]:
        bound = [a.bind(ctx) for a in self.args]
        types = [b[0] for b in bound]
        fns = [b[1] for b in bound]
        res = (catalog.resolve_operator(self.name, types) if self.is_op
               else catalog.resolve_function(self.name, types))
        call = res.bind(ctx)
        return res.result, lambda: call(*[f() for f in fns])


@dataclass
class BoolOp(Node):
    op: str  # and, or, not
    args: list[Node]

    def bind(self, ctx: ValueContext) -> tuple[SqlType, Callable[[], Any]]:
        fns = [_coerce(a, r.BOOL, ctx, "argument of " + self.op.upper()) for a in self.args]
        if self.op == "not":
            f = fns[0]
            return r.BOOL, lambda: None if (v := f()) is None else not v

        def run() -> Any:
            saw_null = False
            for f in fns:
                v = f()
                if v is None:
                    saw_null = True
                elif v == (self.op == "or"):
                    return v
            return None if saw_null else self.op == "and"
        return r.BOOL, run


def _coerce(node: Node, target: SqlType, ctx: ValueContext, what: str) -> Callable[[], Any]:
    t, f = node.bind(ctx)
    if t.oid == target.oid:
        return f
    if not casts.can_cast(t, target, casts.IMPLICIT):
        from dsql.errors import DatatypeMismatch
        raise DatatypeMismatch(f"{what} must be type {r.format_type(target)}, not type "
                               f"{r.format_type(t.base)}")
    conv = casts.cast_fn(t, target, ctx, casts.IMPLICIT)
    return lambda: None if (v := f()) is None else conv(v)


@dataclass
class IsNull(Node):
    arg: Node
    negate: bool

    def bind(self, ctx: ValueContext) -> tuple[SqlType, Callable[[], Any]]:
        _, f = self.arg.bind(ctx)
        return r.BOOL, lambda: (f() is None) != self.negate


@dataclass
class Common(Node):
    """CASE / COALESCE / NULLIF / GREATEST / LEAST, which share select_common_type."""

    kind: str
    conds: list[Node]
    values: list[Node]
    default: Node | None = None

    def bind(self, ctx: ValueContext) -> tuple[SqlType, Callable[[], Any]]:
        nodes = self.values + ([self.default] if self.default is not None else [])
        bound = [n.bind(ctx) for n in nodes]
        label = self.kind.upper()
        if self.kind == "nullif":
            t0, f0 = bound[0]
            eq = catalog.resolve_operator("=", [t0, bound[1][0]]).bind(ctx)
            f1 = bound[1][1]

            def nullif() -> Any:
                a = f0()
                return None if a is not None and eq(a, f1()) else a
            return (t0 if t0.oid != r.UNKNOWN.oid else r.TEXT), nullif
        common = comparison.select_common_type([b[0] for b in bound], label)
        fns = []
        for t, f in bound:
            if t.oid == common.oid:
                fns.append(f)
            else:
                conv = casts.cast_fn(t, common, ctx, casts.IMPLICIT)
                fns.append(lambda f=f, conv=conv: None if (v := f()) is None else conv(v))
        if self.kind == "coalesce":
            def coalesce() -> Any:
                for f in fns:
                    v = f()
                    if v is not None:
                        return v
                return None
            return common, coalesce
        if self.kind in ("greatest", "least"):
            cmpf = comparison.compare_fn(common)
            pick = comparison.greatest if self.kind == "greatest" else comparison.least
            return common, lambda: pick([f() for f in fns], cmpf)
        conds = [_coerce(c, r.BOOL, ctx, "argument of CASE/WHEN") for c in self.conds]
        default = fns[-1] if self.default is not None else (lambda: None)
        branches = fns[:len(self.values)]

        def case() -> Any:
            for c, f in zip(conds, branches, strict=True):
                if c():
                    return f()
            return default()
        return common, case


@dataclass
class Like(Node):
    arg: Node
    pattern: Node
    escape: Node | None
    ci: bool
    negate: bool

    def bind(self, ctx: ValueContext) -> tuple[SqlType, Callable[[], Any]]:
        if self.escape is None:
            sym = ("!~~" if self.negate else "~~") + ("*" if self.ci else "")
            return Call(sym, [self.arg, self.pattern], is_op=True).bind(ctx)
        fs = _coerce(self.arg, r.TEXT, ctx, "LIKE")
        fp = _coerce(self.pattern, r.TEXT, ctx, "LIKE")
        fe = _coerce(self.escape, r.TEXT, ctx, "LIKE")

        def run() -> Any:
            s, p, e = fs(), fp(), fe()
            if s is None or p is None or e is None:
                return None
            return fstr.like_matcher(p, e, self.ci)(s) != self.negate
        return r.BOOL, run


# -- parser -------------------------------------------------------------------------------------

_TYPE_WORDS = {"double": ["precision"], "character": ["varying"], "char": ["varying"],
               "timestamp": ["with", "without"], "time": ["with", "without"]}

BINARY_PREC = {"or": 1, "and": 2, "is": 4, "=": 5, "<": 5, ">": 5, "<=": 5, ">=": 5, "<>": 5,
               "!=": 5, "like": 6, "ilike": 6, "between": 6, "in": 6, "not": 6,
               "+": 8, "-": 8, "*": 9, "/": 9, "%": 9, "^": 10, "at": 11}
OTHER_OP_PREC = 7
UNARY_PREC = 12
CAST_PREC = 13


class Parser:
    def __init__(self, sql: str) -> None:
        self.toks = tokenize(sql)
        self.i = 0

    def peek(self, k: int = 0) -> Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def word(self, k: int = 0) -> str:
        t = self.peek(k)
        return t.text.lower() if t.kind == "id" else ""

    def accept(self, text: str) -> bool:
        t = self.peek()
        if (t.kind == "id" and t.text.lower() == text) or (t.kind == "op" and t.text == text):
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise SqlSyntaxError(f'syntax error at or near "{self.peek().text}"')

    def parse(self) -> Node:
        node = self.expr(0)
        if self.peek().kind != "eof":
            raise SqlSyntaxError(f'syntax error at or near "{self.peek().text}"')
        return node

    # -- types --
    def type_name(self) -> SqlType:
        first = self.next().text.lower()
        words = [first]
        if first in _TYPE_WORDS and self.word() in _TYPE_WORDS[first]:
            words.append(self.next().text.lower())
            if words[-1] in ("with", "without"):
                words.append(self.next().text.lower())  # time
                words.append(self.next().text.lower())  # zone
        mods: list[int] = []
        if self.peek().text == "(":
            self.next()
            while True:
                tok = self.next()
                sign = 1
                if tok.text == "-":
                    sign, tok = -1, self.next()
                mods.append(sign * int(tok.text))
                if not self.accept(","):
                    break
            self.expect(")")
        if first in ("timestamp", "time") and self.word() in ("with", "without"):
            words += [self.next().text.lower(), self.next().text.lower(),
                      self.next().text.lower()]
        name = " ".join(words)
        if self.peek().text == "[":
            self.next()
            self.expect("]")
            name += "[]"
        return r.lookup_type(name, mods)

    # -- expressions --
    def expr(self, min_prec: int) -> Node:
        left = self.prefix()
        while True:
            t = self.peek()
            w = t.text.lower() if t.kind == "id" else t.text
            if t.kind == "op" and w == "::":
                self.next()
                left = Cast(left, self.type_name())
                continue
            if t.kind == "op" and w == "!=":
                w = "<>"
            if t.kind == "id" and w not in BINARY_PREC:
                if w in ("isnull", "notnull") and min_prec <= 4:
                    self.next()
                    left = IsNull(left, w == "notnull")
                    continue
                break
            if t.kind == "op" and w in (")", ",", "]", "["):
                break
            if t.kind == "eof":
                break
            prec = BINARY_PREC.get(w, OTHER_OP_PREC if t.kind == "op" else None)
            if prec is None or prec < min_prec:
                break
            self.next()
            left = self.infix(left, w, prec)
        return left

    def infix(self, left: Node, w: str, prec: int) -> Node:
        if w in ("and", "or"):
            return BoolOp(w, [left, self.expr(prec + 1)])
        if w == "is":
            negate = self.accept("not")
            if self.accept("null"):
                return IsNull(left, negate)
            if self.accept("true") or self.accept("false"):
                val = self.toks[self.i - 1].text.lower() == "true"
                node = Call("=", [left, Const(r.BOOL, val)], is_op=True)
                return _IsBool(node, negate)
            self.expect("distinct")
            self.expect("from")
            right = self.expr(prec + 1)
            return _Distinct(left, right, negate)
        if w == "not":
            if self.accept("like"):
                return self.like(left, False, True)
            if self.accept("ilike"):
                return self.like(left, True, True)
            if self.accept("between"):
                return BoolOp("not", [self.between(left)])
            if self.accept("in"):
                return BoolOp("not", [self.in_list(left)])
            raise SqlSyntaxError("syntax error at or near \"NOT\"")
        if w == "like":
            return self.like(left, False, False)
        if w == "ilike":
            return self.like(left, True, False)
        if w == "between":
            return self.between(left)
        if w == "in":
            return self.in_list(left)
        if w == "at":
            if self.word() != "time":
                raise SqlSyntaxError('syntax error at or near "AT"')
            self.next()
            self.expect("zone")
            zone = self.expr(prec + 1)
            return Call("timezone", [zone, left])
        right = self.expr(prec + 1)
        return Call(w, [left, right], is_op=True)

    def like(self, left: Node, ci: bool, negate: bool) -> Node:
        pattern = self.expr(7)
        escape = self.expr(7) if self.accept("escape") else None
        return Like(left, pattern, escape, ci, negate)

    def between(self, left: Node) -> Node:
        lo = self.expr(8)
        self.expect("and")
        hi = self.expr(8)
        return BoolOp("and", [Call(">=", [left, lo], True), Call("<=", [left, hi], True)])

    def in_list(self, left: Node) -> Node:
        self.expect("(")
        items = [self.expr(0)]
        while self.accept(","):
            items.append(self.expr(0))
        self.expect(")")
        return BoolOp("or", [Call("=", [left, it], True) for it in items])

    def prefix(self) -> Node:
        t = self.next()
        if t.kind == "num":
            return _number(t.text)
        if t.kind == "str":
            body = t.text
            if body[0] in "Ee":
                raise SqlSyntaxError("E'' strings are not supported by the test parser")
            return Const(r.UNKNOWN, body[1:-1].replace("''", "'"))
        if t.kind == "op":
            if t.text == "(":
                node = self.expr(0)
                self.expect(")")
                return node
            if t.text == "-":
                operand = self.expr(UNARY_PREC)
                if isinstance(operand, _NumConst):
                    return _number("-" + operand.text)
                return Call("-", [operand], is_op=True)
            if t.text == "+":
                return Call("+", [self.expr(UNARY_PREC)], is_op=True)
            if t.text in ("@", "~", "|/", "||/"):
                return Call(t.text, [self.expr(UNARY_PREC)], is_op=True)
            raise SqlSyntaxError(f'syntax error at or near "{t.text}"')
        if t.kind == "id":
            w = t.text.lower()
            if w == "null":
                return Const(r.UNKNOWN, None)
            if w in ("true", "false"):
                return Const(r.BOOL, w == "true")
            if w == "not":
                return BoolOp("not", [self.expr(3)])
            if w == "case":
                return self.case()
            if w == "cast":
                self.expect("(")
                arg = self.expr(0)
                self.expect("as")
                typ = self.type_name()
                self.expect(")")
                return Cast(arg, typ)
            if self.peek().text == "(":
                return self.call(w)
            if w in ("current_date", "current_timestamp", "localtimestamp", "localtime"):
                return Call(w, [])
            # a type name followed by a string: typed literal (DATE '2024-01-01')
            if self.peek().kind == "str" or (w in _TYPE_WORDS and self.word() in _TYPE_WORDS[w]):
                self.i -= 1
                typ = self.type_name()
                lit = self.next()
                return Cast(Const(r.UNKNOWN, lit.text[1:-1].replace("''", "'")), typ)
        raise SqlSyntaxError(f'syntax error at or near "{t.text}"')

    def case(self) -> Node:
        subject = None
        if self.word() != "when":
            subject = self.expr(0)
        conds, values = [], []
        while self.accept("when"):
            c = self.expr(0)
            conds.append(Call("=", [subject, c], True) if subject is not None else c)
            self.expect("then")
            values.append(self.expr(0))
        default = self.expr(0) if self.accept("else") else None
        self.expect("end")
        return Common("case", conds, values, default)

    def call(self, name: str) -> Node:
        self.expect("(")
        if name == "extract":
            field = self.next().text
            if field.startswith("'"):
                field = field[1:-1]
            self.expect("from")
            arg = self.expr(0)
            self.expect(")")
            return Call("extract", [Const(r.TEXT, field.lower()), arg])
        if name == "position":
            sub = self.expr(7)
            self.expect("in")
            s = self.expr(0)
            self.expect(")")
            return Call("position", [sub, s])
        args: list[Node] = []
        if name == "trim":
            fname = "btrim"
            if self.word() in ("both", "leading", "trailing"):
                fname = {"both": "btrim", "leading": "ltrim", "trailing": "rtrim"}[self.word()]
                self.next()
            chars = None
            if not self.accept("from"):
                first = self.expr(0)
                if self.accept("from"):
                    chars, s = first, self.expr(0)
                else:
                    s = first
            else:
                s = self.expr(0)
            self.expect(")")
            return Call(fname, [s] + ([chars] if chars is not None else []))
        if name == "substring":
            s = self.expr(0)
            if self.accept("from"):
                start = self.expr(0)
                length = self.expr(0) if self.accept("for") else None
                self.expect(")")
                return Call("substring", [s, start] + ([length] if length else []))
            args.append(s)
            while self.accept(","):
                args.append(self.expr(0))
            self.expect(")")
            return Call("substring", args)
        if self.peek().text != ")":
            args.append(self.expr(0))
            while self.accept(","):
                args.append(self.expr(0))
        self.expect(")")
        if name in ("coalesce", "greatest", "least"):
            return Common(name, [], args)
        if name == "nullif":
            return Common("nullif", [], args)
        return Call(name, args)


@dataclass
class _NumConst(Const):
    text: str = ""


def _number(text: str) -> Node:
    if re.fullmatch(r"-?\d+", text):
        v = int(text)
        if -(1 << 31) <= v < (1 << 31):
            return _NumConst(r.INT4, v, text)
        if -(1 << 63) <= v < (1 << 63):
            return _NumConst(r.INT8, v, text)
    return _NumConst(r.NUMERIC, r.NUMERIC.input(text), text)


@dataclass
class _IsBool(Node):
    inner: Node
    negate: bool

    def bind(self, ctx: ValueContext) -> tuple[SqlType, Callable[[], Any]]:
        _, f = self.inner.bind(ctx)
        return r.BOOL, lambda: (f() is True) != self.negate


@dataclass
class _Distinct(Node):
    left: Node
    right: Node
    negate: bool

    def bind(self, ctx: ValueContext) -> tuple[SqlType, Callable[[], Any]]:
        bl, br = self.left.bind(ctx), self.right.bind(ctx)
        res = catalog.resolve_operator("=", [bl[0], br[0]])
        eq = res.bind(ctx)

        def run() -> bool:
            a, b = bl[1](), br[1]()
            if a is None or b is None:
                d = (a is None) != (b is None)
            else:
                d = not eq(a, b)
            return d != self.negate
        return r.BOOL, run


# -- running ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """What an expression gives: a text value, NULL (value None), or an error."""

    value: str | None = None
    sqlstate: str | None = None
    message: str | None = None

    def show(self) -> str:
        if self.sqlstate is not None:
            return f"ERROR {self.sqlstate} {self.message}"
        return "NULL" if self.value is None else self.value


def evaluate(sql: str, ctx: ValueContext = DEFAULT_CONTEXT) -> Outcome:
    """Evaluates one expression the way `SELECT <sql>` would print it."""
    try:
        node = Parser(sql).parse()
        typ, run = node.bind(ctx)
        value = run()
        if value is None:
            return Outcome()
        if typ.oid == r.UNKNOWN.oid:
            typ = r.TEXT
        return Outcome(value=typ.output(value, ctx))
    except DsqlError as exc:
        return Outcome(sqlstate=exc.sqlstate, message=exc.message)
