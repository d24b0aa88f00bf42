"""Typed random SQL expressions over the columns in scope.

`ExprGen(r, scope).gen(fam)` draws an expression of a family ("num", "text", "bool", "time",
"interval") and returns it with its kind (the PostgreSQL result type, as far as the generator
needs to know it). Expressions may be `risky`: able to raise a data error (division by zero,
overflow, a bad cast) that depends on the row values. Callers allow risky expressions only
where both engines must evaluate the same rows in the same order (a single-table scan, whose
order is the primary-key order in both: the rows are inserted in key order), so the first
error met is the same one.

Constant-only expressions that raise are never generated: PostgreSQL folds constants at plan
time and raises even when no row is read, which is an artefact of its planner.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sql_gen.schema import INT_KINDS, TEXTS, family, quote

NUM_ORDER = ["int2", "int4", "int8", "numeric", "float8"]
LIKE_PATTERNS = ["a%", "%b%", "_b%", "A%", "%", "", "a\\_c", "%c", "__", "%'%", "b\\%c", "é%"]
FAMILIES = ["num", "num", "num", "text", "text", "bool", "time", "interval"]


@dataclass(frozen=True)
class Ref:
    """A column in scope: how to write it, its kind, and whether it can be NULL."""

    sql: str
    kind: str
    nullable: bool = True


@dataclass(frozen=True)
class E:
    sql: str
    kind: str
    risky: bool = False


def _wrapped(sql: str) -> bool:
    """Whether `sql` is one parenthesized group: (a) yes, (a) IS NULL no."""
    if not sql.startswith("("):
        return False
    depth = 0
    quoted = False
    for i, ch in enumerate(sql):
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
            if depth == 0:
                return i == len(sql) - 1
    return False


def paren(sql: str) -> str:
    """`sql` ready to be the operand of `::`: a typed literal (DATE '...') gets parentheses,
    as sqlglot reads DATE 'x'::timestamp as DATE ('x'::timestamp) (recorded separately)."""
    if sql.replace("_", "").replace(".", "").isalnum() or _wrapped(sql):
        return sql
    return f"({sql})"


def promote(a: str, b: str) -> str:
    """The result kind of arithmetic on two numeric kinds (int2+int2 stays int2)."""
    return NUM_ORDER[max(NUM_ORDER.index(a), NUM_ORDER.index(b))]


def time_promote(a: str, b: str) -> str:
    order = ["date", "timestamp", "timestamptz"]
    return order[max(order.index(a), order.index(b))]


class ExprGen:
    """REQUIRES: scope non-empty. `risky` allows row-dependent errors; `aggs` allows aggregates
    (then columns must be grouped; the caller passes only grouped refs as scope)."""

    def __init__(self, r: random.Random, scope: list[Ref], *, risky: bool = False,
                 max_depth: int = 3) -> None:
        assert scope, "an expression needs columns in scope"
        self.r = r
        self.scope = scope
        self.risky = risky
        self.max_depth = max_depth

    # -- helpers ------------------------------------------------------------------------------

    def cols(self, fam: str) -> list[Ref]:
        return [c for c in self.scope if family(c.kind) == fam]

    def col(self, fam: str) -> E | None:
        cs = self.cols(fam)
        if not cs:
            return None
        c = self.r.choice(cs)
        return E(c.sql, c.kind)

    def gen(self, fam: str, depth: int = 0) -> E:
        """An expression of family `fam`."""
        assert fam in ("num", "text", "bool", "time", "interval"), fam
        r = self.r
        leaf = depth >= self.max_depth or r.random() < 0.35 + 0.15 * depth
        if leaf:
            c = self.col(fam)
            if c is not None and r.random() < 0.8:
                return c
            return self.literal(fam)
        method = getattr(self, f"_{fam}")
        e: E = method(depth + 1)
        assert e.sql
        if fam == "bool" and not _wrapped(e.sql):
            # a predicate as an operand: parentheses, since PostgreSQL's precedence of IS,
            # comparisons and NOT differs from what a naive reading (or sqlglot) assumes
            e = E(f"({e.sql})", e.kind, e.risky)
        return e

    def literal(self, fam: str) -> E:
        """A constant. Not NULL where errors may occur: PostgreSQL folds `x >= NULL` to NULL
        and may then skip the scan (and the row errors) altogether."""
        e = self._literal(fam)
        for _ in range(8):
            if not self.risky or not e.sql.startswith("NULL"):
                break
            e = self._literal(fam)
        return e

    def _literal(self, fam: str) -> E:
        r = self.r
        if fam == "num":
            x = r.random()
            if x < 0.5:
                return E(str(r.randint(-3, 10)), "int4")
            if x < 0.7:
                return E(r.choice(["1.5", "0.25", "-2.75", "10.0", "3.14159"]), "numeric")
            if x < 0.85:
                return E(f"{r.randint(-16, 40) / 8}::float8", "float8")
            if x < 0.93:
                return E(r.choice(["3000000000", "-9000000000"]), "int8")
            return E("NULL::int4" if r.random() < 0.5 else "NULL", "int4")
        if fam == "text":
            if r.random() < 0.06:
                return E("NULL::text", "text")
            return E(quote(r.choice(TEXTS)), "text")
        if fam == "bool":
            return E(r.choice(["true", "false", "NULL::bool"]), "bool")
        if fam == "time":
            x = r.random()
            if x < 0.4:
                return E(f"DATE '2024-0{r.randint(1, 9)}-1{r.randint(0, 9)}'", "date")
            if x < 0.8:
                return E(f"TIMESTAMP '2024-02-{r.randint(10, 28)} {r.randint(0, 23)}:30:00'",
                         "timestamp")
            return E(f"TIMESTAMPTZ '2024-03-0{r.randint(1, 9)} 12:00:00+01'", "timestamptz")
        assert fam == "interval"
        return E(r.choice(["INTERVAL '1 day'", "INTERVAL '2 hours'", "INTERVAL '-3 days'",
                           "INTERVAL '1 mon 2 days'", "INTERVAL '00:30:00'"]), "interval")

    def _shared(self, fam: str, depth: int) -> E | None:
        """CASE / COALESCE / NULLIF / GREATEST / LEAST over one family, or None."""
        r = self.r
        x = r.random()
        if x < 0.3:
            a, b = self.gen(fam, depth), self.gen(fam, depth)
            k = self._join_kind(a.kind, b.kind)
            if r.random() < 0.5:
                return E(f"CASE WHEN {self.gen('bool', depth).sql} THEN {a.sql} "
                         f"ELSE {b.sql} END", k, a.risky or b.risky)
            return E(f"CASE WHEN {self.gen('bool', depth).sql} THEN {a.sql} END", a.kind,
                     a.risky)
        if x < 0.5:
            a, b = self.gen(fam, depth), self.gen(fam, depth)
            return E(f"COALESCE({a.sql}, {b.sql})", self._join_kind(a.kind, b.kind),
                     a.risky or b.risky)
        if x < 0.6 and fam != "bool":
            a, b = self.gen(fam, depth), self.gen(fam, depth)
            return E(f"NULLIF({a.sql}, {b.sql})", a.kind, a.risky or b.risky)
        if x < 0.75 and fam != "bool":
            a, b = self.gen(fam, depth), self.gen(fam, depth)
            f = r.choice(["GREATEST", "LEAST"])
            return E(f"{f}({a.sql}, {b.sql})", self._join_kind(a.kind, b.kind),
                     a.risky or b.risky)
        return None

    @staticmethod
    def _join_kind(a: str, b: str) -> str:
        if a in NUM_ORDER and b in NUM_ORDER:
            return promote(a, b)
        if a in ("date", "timestamp", "timestamptz") and b in ("date", "timestamp",
                                                              "timestamptz"):
            return time_promote(a, b)
        if a == b:
            return a
        return "text"

    # -- families -----------------------------------------------------------------------------

    def _num(self, depth: int) -> E:
        r = self.r
        if r.random() < 0.22:
            return self._num_fn(depth)
        x = r.random()
        if x < 0.12:
            s = self._shared("num", depth)
            if s is not None:
                return s
        if x < 0.45:
            a, b = self.gen("num", depth), self.gen("num", depth)
            op = r.choice(["+", "-", "*", "+", "-"])
            k = promote(a.kind, b.kind)
            risky = a.risky or b.risky or (k in INT_KINDS or op == "*")
            if risky and not self.risky:
                # keep to additions of small literals, which cannot overflow in practice
                a = self.gen("num", depth)
                lit = r.randint(1, 9)
                return E(f"({a.sql} {r.choice(['+', '-'])} {lit}.5)",
                         promote(a.kind, "numeric"), a.risky)
            return E(f"({a.sql} {op} {b.sql})", k, risky)
        if x < 0.55 and self.risky:
            a, b = self.gen("num", depth), self.gen("num", depth)
            op = r.choice(["/", "%"])
            if op == "%" and "float8" in (a.kind, b.kind):
                op = "/"
            return E(f"({a.sql} {op} {b.sql})", promote(a.kind, b.kind), True)
        if x < 0.62:
            a = self.gen("num", depth)
            lit = r.choice(["2", "3", "4", "7"])
            op = r.choice(["/", "%"])
            if a.kind == "float8":
                op = "/"
            return E(f"({a.sql} {op} {lit})", promote(a.kind, "int4"), a.risky)
        if x < 0.7:
            a = self.gen("num", depth)
            if a.kind == "int2" and not self.risky:  # -(-32768) overflows
                return E(f"abs({a.sql}::int4)", "int4", a.risky)
            f = r.choice(["-", "abs", "sign", "-"])
            if not self.risky and a.kind in INT_KINDS and f != "sign":
                a = E(f"{paren(a.sql)}::numeric", "numeric", a.risky)  # -(-2^63) overflows
            if f == "-":
                return E(f"(- {a.sql})", a.kind, a.risky or a.kind in INT_KINDS)
            k = a.kind
            if f == "sign" and k in INT_KINDS:
                k = a.kind
            return E(f"{f}({a.sql})", k, a.risky or a.kind in INT_KINDS)
        if x < 0.78:
            a = self.gen("num", depth)
            if a.kind in INT_KINDS:
                a = E(f"{a.sql}::numeric", "numeric", a.risky)
            f = r.choice(["round", "trunc", "ceil", "floor"])
            if f in ("round", "trunc") and a.kind == "numeric" and r.random() < 0.6:
                return E(f"{f}({a.sql}, {r.randint(-1, 2)})", "numeric", a.risky)
            return E(f"{f}({a.sql})", a.kind, a.risky)
        if x < 0.86:
            a = self.gen("num", depth)
            target = r.choice(["int4", "int8", "numeric", "float8", "int2", "numeric(8,1)"])
            risky = target in ("int2", "int4", "numeric(8,1)") or (
                target == "int8" and a.kind in ("numeric", "float8"))
            if risky and not self.risky:
                target = r.choice(["numeric", "float8"])
                risky = False
            kind = "numeric" if target.startswith("numeric") else target
            if target == "float8" and a.kind == "numeric":
                kind = "float8"
            return E(f"CAST({a.sql} AS {target})" if r.random() < 0.5
                     else f"{paren(a.sql)}::{target}", kind, a.risky or risky)
        if x < 0.92:
            t = self.gen("text", depth)
            return E(f"length({t.sql})", "int4", t.risky)
        if x < 0.96:
            c = self.cols("time")
            dates = [x for x in c if x.kind == "date"]
            if len(dates) >= 1:
                a = r.choice(dates)
                return E(f"({a.sql} - DATE '2024-01-01')", "int4")
            if c:
                return E(f"extract({r.choice(['year', 'month', 'day', 'dow'])} from "
                         f"{r.choice(c).sql})", "numeric")
        c = self.col("text")
        if self.risky and c is not None and r.random() < 0.5:
            # a column, not a literal: PostgreSQL reads a constant at parse time
            return E(f"{paren(c.sql)}::int4", "int4", True)
        s = self._shared("num", depth)
        if s is not None:
            return s
        return self.gen("num", self.max_depth)

    def _text(self, depth: int) -> E:
        r = self.r
        if r.random() < 0.2:
            return self._text_fn(depth)
        x = r.random()
        if x < 0.12:
            s = self._shared("text", depth)
            if s is not None:
                return s
        if x < 0.3:
            a = self.gen("text", depth)
            b = self.gen(r.choice(["text", "text", "num", "time", "bool"]), depth)
            return E(f"({a.sql} || {b.sql})", "text", a.risky or b.risky)
        a = self.gen("text", depth)
        if x < 0.45:
            f = r.choice(["upper", "lower", "trim", "reverse", "initcap", "ltrim", "rtrim"])
            return E(f"{f}({a.sql})", "text", a.risky)
        if x < 0.6:
            n = r.randint(-1, 4)
            # substring(), not substr(): sqlglot reads both as one node and names the column
            # "substring" (recorded separately)
            forms = [f"substring({a.sql}, {n})",
                     f"substring({a.sql}, {n}, {r.randint(0, 3)})",
                     f"left({a.sql}, {n})", f"right({a.sql}, {n})",
                     f"substring({a.sql} from {max(n, 1)} for 2)"]
            return E(r.choice(forms), "text", a.risky)
        if x < 0.7:
            return E(f"replace({a.sql}, {quote(r.choice(['a', 'b', ' ', 'ab']))}, "
                     f"{quote(r.choice(['', 'X', '--']))})", "text", a.risky)
        if x < 0.78:
            b = self.gen(r.choice(["text", "num"]), depth)
            sep = quote(r.choice(["-", ", ", ""]))
            if r.random() < 0.5:
                return E(f"concat({a.sql}, {b.sql})", "text", a.risky or b.risky)
            return E(f"concat_ws({sep}, {a.sql}, {b.sql})", "text", a.risky or b.risky)
        if x < 0.85:
            f = r.choice(["lpad", "rpad"])
            return E(f"{f}({a.sql}, {r.randint(0, 6)}, {quote(r.choice(['*', 'xy']))})",
                     "text", a.risky)
        if x < 0.93:
            src = self.gen(r.choice(["num", "time", "bool", "interval"]), depth)
            if r.random() < 0.5:
                return E(f"{paren(src.sql)}::text", "text", src.risky)
            return E(f"CAST({src.sql} AS varchar)", "varchar", src.risky)
        return E(f"repeat({a.sql}, {r.randint(0, 3)})", "text", a.risky)

    def _bool(self, depth: int) -> E:
        r = self.r
        if r.random() < 0.08:
            return self._bool_fn(depth)
        x = r.random()
        if x < 0.3:
            fam = r.choice(FAMILIES)
            if fam == "bool":
                fam = "num"
            a, b = self.gen(fam, depth), self.gen(fam, depth)
            op = r.choice(["=", "<>", "<", "<=", ">", ">=", "!="])
            return E(f"{a.sql} {op} {b.sql}", "bool", a.risky or b.risky)
        if x < 0.42:
            a, b = self.gen("bool", depth), self.gen("bool", depth)
            return E(f"({a.sql} {r.choice(['AND', 'OR'])} {b.sql})", "bool", a.risky or b.risky)
        if x < 0.48:
            a = self.gen("bool", depth)
            return E(f"NOT ({a.sql})", "bool", a.risky)
        if x < 0.56:
            a = self.gen(r.choice(FAMILIES), depth)
            return E(f"{a.sql} IS {r.choice(['', 'NOT '])}NULL", "bool", a.risky)
        if x < 0.62:
            fam = r.choice(FAMILIES)
            a, b = self.gen(fam, depth), self.gen(fam, depth)
            return E(f"{a.sql} IS {r.choice(['', 'NOT '])}DISTINCT FROM {b.sql}", "bool",
                     a.risky or b.risky)
        if x < 0.7:
            fam = r.choice(["num", "num", "text", "time"])
            a, b, c = self.gen(fam, depth), self.literal(fam), self.literal(fam)
            sym = " SYMMETRIC" if r.random() < 0.2 else ""
            neg = "NOT " if r.random() < 0.2 else ""
            return E(f"{a.sql} {neg}BETWEEN{sym} {b.sql} AND {c.sql}", "bool", a.risky)
        if x < 0.8:
            fam = r.choice(["num", "num", "text", "time"])
            a = self.gen(fam, depth)
            items = [self.literal(fam).sql for _ in range(r.randint(1, 4))]
            if fam != "num" or r.random() < 0.3:
                items = [i for i in items if not i.startswith("NULL")] or [self.literal(fam).sql]
            neg = "NOT " if r.random() < 0.3 else ""
            return E(f"{a.sql} {neg}IN ({', '.join(items)})", "bool", a.risky)
        if x < 0.88:
            a = self.gen("text", depth)
            op = r.choice(["LIKE", "NOT LIKE", "ILIKE", "LIKE", "NOT ILIKE"])
            return E(f"{a.sql} {op} {quote(r.choice(LIKE_PATTERNS))}", "bool", a.risky)
        if x < 0.92:
            a = self.gen("bool", depth)
            return E(f"{a.sql} IS {r.choice(['', 'NOT '])}{r.choice(['TRUE', 'FALSE'])}",
                     "bool", a.risky)
        s = self._shared("bool", depth)
        if s is not None:
            return s
        c = self.col("bool")
        if c is not None:
            return c
        return self.gen("bool", self.max_depth)

    def _time(self, depth: int) -> E:
        r = self.r
        if r.random() < 0.15:
            return self._time_fn(depth)
        x = r.random()
        if x < 0.15:
            s = self._shared("time", depth)
            if s is not None:
                return s
        a = self.gen("time", depth)
        if x < 0.45 and a.kind == "date":
            return E(f"({a.sql} {r.choice(['+', '-'])} {r.randint(-40, 400)})", "date",
                     a.risky)
        if x < 0.7:
            iv = self.gen("interval", depth)
            k = "timestamp" if a.kind == "date" else a.kind
            return E(f"({a.sql} {r.choice(['+', '-'])} {iv.sql})", k, a.risky or iv.risky)
        if x < 0.85 and a.kind != "date":
            unit = r.choice(["day", "month", "hour", "year", "minute", "week"])
            return E(f"date_trunc({quote(unit)}, {a.sql})", a.kind, a.risky)
        if x < 0.93:
            target = r.choice(["date", "timestamp", "timestamptz"])
            return E(f"{paren(a.sql)}::{target}", target, a.risky)
        return a

    def _interval(self, depth: int) -> E:
        r = self.r
        x = r.random()
        if x < 0.15:
            s = self._shared("interval", depth)
            if s is not None:
                return s
        ts = [c for c in self.cols("time") if c.kind != "date"]
        if x < 0.4 and ts:
            a, b = r.choice(ts), r.choice(ts)
            if a.kind == b.kind:
                return E(f"({a.sql} - {b.sql})", "interval")
        a = self.gen("interval", depth)
        if x < 0.6:
            b = self.gen("interval", depth)
            return E(f"({a.sql} {r.choice(['+', '-'])} {b.sql})", "interval",
                     a.risky or b.risky)
        if x < 0.75:
            return E(f"({a.sql} * {r.randint(-3, 4)})", "interval", a.risky)
        if x < 0.85:
            return E(f"(- {a.sql})", "interval", a.risky)
        if x < 0.92:
            f = r.choice(["justify_hours", "justify_days", "justify_interval"])
            return E(f"{f}({a.sql})", "interval", a.risky)
        return a

    # -- more functions -----------------------------------------------------------------------

    def _positive(self, depth: int) -> E:
        """A numeric expression that is >= 1 (for sqrt, ln, log)."""
        a = self.gen("num", depth)
        k = "float8" if a.kind == "float8" else "numeric"
        if a.kind in INT_KINDS:
            return E(f"(abs({a.sql}::numeric) + 1)", k, a.risky)
        return E(f"(abs({a.sql}) + 1)", k, a.risky)

    def _num_fn(self, depth: int) -> E:
        r = self.r
        x = r.random()
        if x < 0.3:
            a = self._positive(depth)
            f = r.choice(["sqrt", "ln", "log", "cbrt", "log10", "exp"])
            if f == "cbrt":
                return E(f"cbrt({a.sql}::float8)", "float8", a.risky)
            if f == "exp":  # exp(numeric) of a large value overflows
                return E(f"exp(LEAST({a.sql}, 20))", a.kind, a.risky)
            return E(f"{f}({a.sql})", a.kind, a.risky)
        if x < 0.45:
            a, b = self.gen("num", depth), self.gen("num", depth)
            if not self.risky:
                b = E(str(r.choice([2, 3, -4, 7])), "int4")
            # mod() is sqlglot's %, named ?column? (recorded separately): generate div()
            f = "div"
            if "float8" in (a.kind, b.kind):
                a = E(f"{paren(a.sql)}::numeric", "numeric", a.risky)
            return E(f"{f}({a.sql}, {b.sql})", promote(a.kind, b.kind) if f == "mod"
                     else "numeric", a.risky or b.risky or self.risky)
        if x < 0.55:
            a = self.gen("num", depth)
            e = r.choice(["2", "0.5", "3", "-1", "0"])
            if a.kind in INT_KINDS:
                a = E(f"{paren(a.sql)}::numeric", "numeric", a.risky)
            risky = e in ("-1", "0.5") or a.risky
            if risky and not self.risky:
                a = E(f"(abs({a.sql}) + 1)", a.kind, a.risky)
            return E(f"power(LEAST({a.sql}, 1000), {e})", a.kind, risky and self.risky)
        if x < 0.65:
            t = self.gen("text", depth)
            f = r.choice([f"strpos({t.sql}, {quote(r.choice(['a', 'b', ' ', '']))})",
                          f"ascii({t.sql})", f"octet_length({t.sql})"])
            return E(f, "int4", t.risky)
        if x < 0.75:
            c = [c for c in self.cols("time")]
            if c:
                a = r.choice(c)
                f = r.choice(["year", "month", "day", "hour", "dow", "doy", "epoch", "quarter",
                              "week", "isodow"])
                if a.kind == "date" and f in ("hour",):
                    f = "day"
                if r.random() < 0.3:  # date_part is double precision, extract numeric
                    return E(f"date_part('{f}', {a.sql})", "float8")
                return E(f"extract({f} from {a.sql})", "numeric")
        if x < 0.82:
            a = self.gen("num", depth)
            if a.kind in INT_KINDS:
                a = E(f"{paren(a.sql)}::numeric", "numeric", a.risky)
            if a.kind == "numeric":
                return E(f"scale({a.sql})", "int4", a.risky)
        if x < 0.9:
            iv = self.gen("interval", depth)
            f = r.choice(["epoch", "day", "hour", "month", "minute"])
            return E(f"extract({f} from {iv.sql})", "numeric", iv.risky)
        a = self.gen("num", depth)
        if a.kind in INT_KINDS or not self.risky:
            return E(f"sign({a.sql})", a.kind, a.risky)
        return E(f"round({a.sql}::numeric, {r.randint(0, 3)})", "numeric", a.risky)

    def _text_fn(self, depth: int) -> E:
        r = self.r
        a = self.gen("text", depth)
        x = r.random()
        if x < 0.15:
            return E(f"split_part({a.sql}, {quote(r.choice([' ', 'b', '%']))}, "
                     f"{r.randint(1, 3)})", "text", a.risky)
        if x < 0.25:
            return E(f"translate({a.sql}, 'abc', 'xy')", "text", a.risky)
        if x < 0.32:
            return E(f"md5({a.sql})", "text", a.risky)
        if x < 0.4:
            return E(f"btrim({a.sql}, {quote(r.choice(['a', 'ab', ' ']))})", "text", a.risky)
        if x < 0.5:
            n = self.gen("num", depth)
            if n.kind in INT_KINDS:
                # inside concat(): sqlglot folds upper(to_hex(x)) into to_hex(x) (recorded)
                return E(f"concat('', to_hex({n.sql}))", "text", n.risky)
            return E(f"chr(65 + abs({r.randint(0, 25)}))", "text")
        if x < 0.65:
            n = self.gen("num", depth)
            if n.kind in INT_KINDS or n.kind == "numeric":  # floats may be NaN: not here
                fmt = r.choice(["999D99", "FM999990.00", "S9999", "0000", "9.99EEEE",
                                "FM9999", "9G999", "99MI"])
                return E(f"to_char({n.sql}, {quote(fmt)})", "text", n.risky)
        if x < 0.75:
            cs = [c for c in self.cols("time")]
            if cs:
                c = r.choice(cs)
                fmt = r.choice(["YYYY-MM-DD", "DD Mon YYYY", "HH24:MI:SS", "Day", "YYYY/Q",
                                "FMMonth DD"])
                return E(f"to_char({c.sql}, {quote(fmt)})", "text")
        if x < 0.85:
            n = r.randint(0, 4)
            return E(f"CAST({a.sql} AS varchar({max(n, 1)}))", "varchar", a.risky)
        b = self.gen(r.choice(["text", "num"]), depth)
        return E(f"format('%s-%s', {a.sql}, {b.sql})", "text", a.risky or b.risky)

    def _time_fn(self, depth: int) -> E:
        r = self.r
        x = r.random()
        if x < 0.4:
            return E(f"make_date({r.choice([1999, 2024, 2000])}, {r.randint(1, 12)}, "
                     f"{r.randint(1, 28)})", "date")
        if x < 0.7:
            cs = [c for c in self.cols("time") if c.kind != "date"]
            if cs:
                c = r.choice(cs)
                return E(f"({c.sql})::date", "date")
        a = self.gen("time", depth)
        return E(f"date_trunc({quote(r.choice(['quarter', 'decade', 'second']))}, "
                 f"{paren(a.sql)}::timestamp)", "timestamp", a.risky)

    def _bool_fn(self, depth: int) -> E:
        r = self.r
        x = r.random()
        if x < 0.3:
            t = self.gen("text", depth)
            return E(f"starts_with({t.sql}, {quote(r.choice(['a', 'A', '', 'b']))})", "bool",
                     t.risky)
        if x < 0.6:
            a = self.gen("text", depth)
            pat = quote(r.choice(["a!%", "!_%", "%!!%", "a%"]))
            return E(f"({a.sql} LIKE {pat} ESCAPE '!')", "bool", a.risky)
        if x < 0.8:
            a = self.gen("num", depth)
            if a.kind in ("int4",):
                return E(f"({a.sql})::bool", "bool", a.risky)
        a = self.gen("num", depth)
        whens = " ".join(f"WHEN {r.randint(-2, 6)} THEN {r.choice(['true', 'false', 'NULL'])}"
                         for _ in range(r.randint(1, 3)))
        return E(f"(CASE {a.sql} {whens} ELSE {r.choice(['true', 'false'])} END)", "bool",
                 a.risky)
