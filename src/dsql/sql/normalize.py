"""Literal lifting for the plan cache: statement text -> (normalized text, literal values).

    lift("SELECT v FROM t WHERE id = 42 AND name = 'x'", 0)
    # Lifted(text="SELECT v FROM t WHERE id = $1 AND name = $2", values=[42, 'x'],
    #        types=('i4', 'u'))

The plan cache keys on the normalized text, so a statement repeated with other literals reuses
its plan and does not go through sqlglot again. A tokenizer, not a parser, decides: it runs in
a few microseconds. Each lifted literal becomes a parameter numbered after the caller's own, with
the type PostgreSQL gives the literal: an integer is int4 when it fits, else int8, else numeric;
a decimal is numeric; a plain '...' string is unknown-typed (resolved by context, as an untyped
parameter is). The session checks the parsed statement afterwards (`safe_params`) and falls back
to the unlifted text when a lifted parameter sits anywhere but a plain value position.

Conservative by design: a literal is lifted only in a value position (after a comparison or
arithmetic operator, `(`, `,`, or a keyword such as SELECT, WHERE, AND, THEN, VALUES, LIKE).
Never lifted: literals in ORDER BY / GROUP BY / PARTITION BY (positional references), after
LIMIT / OFFSET / FETCH, inside a type's modifier list (varchar(10), numeric(10,2)), in array
brackets, typed literals (date '...', interval '...'), E'', U&'', B'', X'' and dollar-quoted
strings, strings holding a backslash, numbers with a sign in front (unary minus is folded into
the literal by PostgreSQL), numbers in exponent form. Statements other than SELECT / INSERT /
UPDATE / DELETE / WITH / VALUES are never lifted, nor are statements with nested comments,
`$n` parameters the caller did not supply, or more than MAX_LIFTED literals.

Thread-safety: pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from sqlglot import exp

__all__ = ["MAX_LIFTED", "Lifted", "lift", "safe_params"]

MAX_LIFTED = 64

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      | (?P<lc>--[^\n]*)
      | (?P<bc>/\*(?:[^*]|\*(?!/))*\*/)
      | (?P<str>'(?:[^']|'')*')
      | (?P<qid>"(?:[^"]|"")*")
      | (?P<param>\$\d+)
      | (?P<dollar>\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$)
      | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<id>[A-Za-z_\x80-\U0010ffff][A-Za-z_0-9$\x80-\U0010ffff]*)
      | (?P<op>::|[+\-*/<>=~!@#%^&|`?]+)
      | (?P<punct>[(),;\[\].:])
    """,
    re.X,
)

_LEADS = frozenset({"select", "insert", "update", "delete", "with", "values"})
# Keywords after which a value may stand.
_VALUE_AFTER = frozenset({"select", "where", "and", "or", "when", "then", "else", "values",
                          "between", "like", "ilike", "set", "having", "on", "distinct",
                          "is", "returning"})
# Keywords: an identifier token that is one of these is not an operand (so a following '-' or
# '+' is unary).
_KEYWORDS = _VALUE_AFTER | frozenset({"not", "in", "case", "from", "as", "by", "limit",
                                      "offset", "fetch", "first", "next", "all", "any", "some",
                                      "exists", "join", "using", "into", "order", "group",
                                      "partition", "escape", "array", "interval"})
_OPS_BEFORE_VALUE = frozenset({"=", "<", ">", "<=", ">=", "<>", "!=", "+", "-", "*", "/", "%",
                               "||"})
_TYPE_NAMES = frozenset({"varchar", "char", "character", "varying", "numeric", "decimal", "dec",
                         "bit", "time", "timestamp", "timestamptz", "timetz", "interval",
                         "float", "nchar", "bpchar"})
_CLAUSE_ENDS = frozenset({"limit", "offset", "having", "window", "for", "union", "intersect",
                          "except", "fetch", "returning", "from", "where", "select", "values"})
_INT4 = 1 << 31
_INT8 = 1 << 63


@dataclass(frozen=True)
class Lifted:
    text: str  # the statement with lifted literals as $n
    values: list[object]  # the lifted values, in parameter order
    types: tuple[str, ...]  # per value: 'i4', 'i8', 'n' (numeric), 'u' (unknown string)


def _number(text: str) -> tuple[object, str] | None:
    if text.isdigit():
        v = int(text)
        if v < _INT4:
            return v, "i4"
        if v < _INT8:
            return v, "i8"
        return Decimal(v), "n"
    if "e" in text or "E" in text:
        return None
    return Decimal(text), "n"


def lift(sql: str, nparams: int) -> Lifted | None:
    """The normalized statement, or None when nothing was (or may be) lifted."""
    toks: list[tuple[str, str]] = []
    pos = 0
    n = len(sql)
    match = _TOKEN.match
    while pos < n:
        m = match(sql, pos)
        if m is None:
            return None
        kind = m.lastgroup
        text = m.group()
        if kind == "dollar" or (kind == "bc" and "/*" in text[2:]):
            return None
        if kind == "param" and int(text[1:]) > nparams:
            return None
        toks.append((kind or "", text))
        pos = m.end()
    first = next((t for k, t in toks if k not in ("ws", "lc", "bc")), "")
    if first.lower() not in _LEADS:
        return None
    out: list[str] = []
    values: list[object] = []
    types: list[str] = []
    # Per open paren/bracket: (liftable inside, ORDER/GROUP BY list open at this level).
    stack: list[list[bool]] = [[True, False]]
    prev = ""  # previous significant token, lower-cased
    prev_kind = ""
    prev2 = ""  # the one before it
    prev2_kind = ""
    last_kind = ""  # the token right before (whitespace included)
    for kind, text in toks:
        if kind in ("ws", "lc", "bc"):
            out.append(text)
            last_kind = kind
            continue
        low = text.lower() if kind == "id" else text
        if last_kind == "num" and kind in ("id", "num") or \
                kind == "str" and last_kind == "id" and prev == "e":
            return None  # trailing junk after a number (PostgreSQL's error), or an E'' string
        lifted = False
        if kind in ("num", "str"):
            ok = all(level[0] and not level[1] for level in stack)
            if ok:
                if prev_kind == "id":
                    ok = prev in _VALUE_AFTER
                elif prev_kind == "op":
                    ok = prev in _OPS_BEFORE_VALUE
                    if ok and prev in ("+", "-"):
                        # unary when what precedes the sign is not an operand
                        operand = prev2_kind in ("num", "str", "qid", "param") or \
                            prev2 in (")", "]") or \
                            (prev2_kind == "id" and prev2 not in _KEYWORDS)
                        ok = operand
                elif prev_kind == "punct":
                    ok = prev in ("(", ",")
                else:
                    ok = False
            if ok and kind == "str":
                ok = last_kind == "ws" or prev_kind in ("op", "punct")
                ok = ok and "\\" not in text and prev_kind != "str"
            if ok:
                if kind == "num":
                    got = _number(text)
                    if got is not None:
                        values.append(got[0])
                        types.append(got[1])
                        lifted = True
                else:
                    values.append(text[1:-1].replace("''", "'"))
                    types.append("u")
                    lifted = True
        if lifted:
            if len(values) > MAX_LIFTED:
                return None
            out.append(f"${nparams + len(values)}")
        else:
            out.append(text)
        if kind == "punct":
            if text in ("(", "["):
                inside = text == "(" and not (prev_kind == "id" and prev in _TYPE_NAMES)
                stack.append([inside, False])
            elif text in (")", "]"):
                if len(stack) == 1:
                    return None
                stack.pop()
            elif text == ";":
                stack[-1][1] = False
        elif kind == "id":
            if low == "by" and prev in ("order", "group", "partition"):
                stack[-1][1] = True
            elif low in _CLAUSE_ENDS:
                stack[-1][1] = False
            if low in ("limit", "offset", "fetch"):
                stack[-1][0] = False
        prev2, prev2_kind = prev, prev_kind
        prev, prev_kind = low, kind
        last_kind = kind
    if not values or len(stack) != 1:
        return None
    return Lifted("".join(out), values, tuple(types))


_SAFE_PARENTS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Add, exp.Sub, exp.Mul,
                 exp.Div, exp.In, exp.Between, exp.Tuple, exp.Paren, exp.Like, exp.ILike,
                 exp.Select, exp.Alias, exp.If, exp.Case, exp.And, exp.Or, exp.Where)


def safe_params(ast: exp.Expression, first: int) -> bool:
    """Whether every parameter numbered `first` or above stands where a value would: as an
    operand of a comparison, arithmetic, IN, BETWEEN, LIKE, CASE, a VALUES row, a SET, or a
    select-list item. Elsewhere (function arguments, casts, LIMIT, ...) a parameter may not
    behave exactly as the literal did, so the statement is not lifted."""
    for p in ast.find_all(exp.Parameter, exp.Placeholder):
        name = p.this.this if isinstance(p.this, exp.Expression) else p.this
        try:
            num = int(str(name))
        except ValueError:
            return False
        if num < first:
            continue
        parent = p.parent
        if isinstance(parent, exp.Alias) and isinstance(parent.parent, exp.Select):
            continue
        if isinstance(parent, (exp.EQ,)) and isinstance(parent.parent, exp.Update):
            continue
        if isinstance(parent, exp.Like) and parent.args.get("escape") is p:
            return False
        if not isinstance(parent, _SAFE_PARENTS):
            return False
        if isinstance(parent, (exp.And, exp.Or, exp.Where)):
            return False
    return True
