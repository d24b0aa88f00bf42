"""Statements parsed here rather than by sqlglot: COPY, TRUNCATE, VACUUM and ANALYZE.

sqlglot parses none of these faithfully (COPY's option list, VACUUM), and all of them are
simple: a small tokenizer and a grammar per statement give a `Statement` whose `bind` makes a
Plan the session runs like any other. `recognise(sql)` is cheap for other statements (one
regex on the first word) and returns None for them.

    COPY     see dsql.sql.copy
    TRUNCATE [TABLE] [ONLY] name [*] [, ...] [RESTART IDENTITY | CONTINUE IDENTITY]
             [CASCADE | RESTRICT]                                   -> dsql.sql.truncate
    VACUUM   [FULL] [FREEZE] [VERBOSE] [ANALYZE] [(options)] [name [(cols)] [, ...]]
    ANALYZE  [VERBOSE] [(options)] [name [(cols)] [, ...]]          -> no-ops with a NOTICE

Invariants:
  1. `tokens(sql)` returns every token in order; identifiers unquoted are lower-cased, quoted
     ones kept exactly; strings are unescaped.
  2. `recognise` never raises for a statement whose first word is not one of the four.
"""

from __future__ import annotations

import contextlib
import gc
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dsql.errors import DsqlError, SqlSyntaxError
from dsql.sql.plan import ExecContext, Outcome, Plan

if TYPE_CHECKING:
    from dsql.sql.select import Binder

_FIRST = re.compile(r"^\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*([A-Za-z]+)", re.S)
_WORDS = frozenset(("copy", "truncate", "vacuum", "analyze", "analyse"))
TOKENS_MAX = 100_000  # a bound on the tokenizer loop


@dataclass(frozen=True)
class Token:
    kind: str  # "word", "ident" (quoted), "string", "number", "op"
    text: str  # lower-cased for "word"

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text in words


_TOKEN = re.compile(r"""
    (?P<ws>\s+|--[^\n]*|/\*.*?\*/)
  | (?P<estring>[eE]'(?:[^'\\]|''|\\.)*')
  | (?P<string>'(?:[^']|'')*')
  | (?P<ident>"(?:[^"]|"")*")
  | (?P<number>[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<op>[^\s\w'"])
""", re.S | re.X)

_E_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "\\": "\\", "'": "'"}


def _e_string(body: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nx = body[i + 1]
            out.append(_E_ESCAPES.get(nx, nx))
            i += 2
        elif c == "'" and body.startswith("''", i):
            out.append("'")
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def tokens(sql: str) -> list[Token]:
    out: list[Token] = []
    pos, n = 0, len(sql)
    while pos < n:
        m = _TOKEN.match(sql, pos)
        if m is None:
            raise SqlSyntaxError(f'syntax error at or near "{sql[pos:pos + 10].split()[0]}"')
        pos = m.end()
        kind = m.lastgroup
        text = m.group(0)
        if kind == "ws":
            continue
        if kind == "estring":
            out.append(Token("string", _e_string(text[2:-1])))
        elif kind == "string":
            out.append(Token("string", text[1:-1].replace("''", "'")))
        elif kind == "ident":
            out.append(Token("ident", text[1:-1].replace('""', '"')))
        elif kind == "word":
            out.append(Token("word", text.lower()))
        else:
            assert kind in ("number", "op")
            out.append(Token(kind or "op", text))
        if len(out) > TOKENS_MAX:
            raise SqlSyntaxError("statement too long")
    while out and out[-1] == Token("op", ";"):
        out.pop()
    return out


class Cursor:
    """A position in a token list, with the helpers the small grammars need."""

    def __init__(self, toks: list[Token]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self, ahead: int = 0) -> Token | None:
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else None

    def at_end(self) -> bool:
        return self.i >= len(self.toks)

    def next(self) -> Token:
        t = self.peek()
        if t is None:
            raise SqlSyntaxError("syntax error at end of input")
        self.i += 1
        return t

    def accept(self, *words: str) -> bool:
        t = self.peek()
        if t is not None and t.is_word(*words):
            self.i += 1
            return True
        return False

    def accept_op(self, op: str) -> bool:
        t = self.peek()
        if t is not None and t.kind == "op" and t.text == op:
            self.i += 1
            return True
        return False

    def expect_op(self, op: str) -> None:
        if not self.accept_op(op):
            self.fail()

    def fail(self) -> DsqlError:
        t = self.peek()
        if t is None:
            raise SqlSyntaxError("syntax error at end of input")
        raise SqlSyntaxError(f'syntax error at or near "{t.text}"')

    def name(self) -> str:
        t = self.next()
        if t.kind not in ("word", "ident"):
            self.i -= 1
            self.fail()
        return t.text

    def qualified_name(self) -> tuple[str | None, str]:
        first = self.name()
        if self.accept_op("."):
            return first, self.name()
        return None, first

    def end(self) -> None:
        if not self.at_end():
            self.fail()


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic collector off while a bulk statement builds millions of tuples (each
    full collection would walk them all; bulk rows hold no cycles). Process-wide, so only
    around statements that allocate in bulk; restored even on error."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class Statement(ABC):
    """A recognised statement; `kind` is the plan kind ("query", "dml")."""

    kind = "query"
    in_block_ok = True  # VACUUM refuses to run inside a transaction block (25001)

    @abstractmethod
    def bind(self, b: Binder) -> Plan:
        """The plan of this statement against the binder's catalog."""


class _Noop(Plan):
    kind = "query"

    def __init__(self, tag: str, notice: str) -> None:
        self.tag = tag
        self.notice = notice

    def execute(self, ec: ExecContext) -> Outcome:
        n = DsqlError(self.notice, sqlstate="00000")
        n.severity = "NOTICE"  # type: ignore[attr-defined]
        return Outcome([], self.tag, [n])


class Maintenance(Statement):
    """VACUUM / ANALYZE: accepted, checked against the catalog, and a no-op (storage is
    multi-version with its own garbage collection; dsql keeps no planner statistics)."""

    def __init__(self, verb: str, tables: list[tuple[str | None, str]]) -> None:
        self.verb = verb
        self.tables = tables
        self.in_block_ok = verb != "VACUUM"

    def bind(self, b: Binder) -> Plan:
        from sqlglot import exp
        for schema, name in self.tables:
            b.table(exp.Table(this=exp.to_identifier(name),
                              db=exp.to_identifier(schema) if schema else None))
        what = "VACUUM" if self.verb == "VACUUM" else "ANALYZE"
        return _Noop(what, f"{what} does nothing in dsql: storage reclaims old versions by "
                           "itself and the planner keeps no statistics")


def _maintenance(verb: str, c: Cursor) -> Maintenance:
    if c.accept_op("("):
        depth = 1
        for _ in range(TOKENS_MAX):
            t = c.next()
            if t.kind == "op" and t.text in "()":
                depth += 1 if t.text == "(" else -1
                if depth == 0:
                    break
    else:
        while c.accept("full", "freeze", "verbose", "analyze", "analyse"):
            pass
    tables: list[tuple[str | None, str]] = []
    while not c.at_end():
        tables.append(c.qualified_name())
        if c.accept_op("("):
            while not c.accept_op(")"):
                c.next()
        if not c.accept_op(","):
            break
    c.end()
    return Maintenance(verb, tables)


def recognise(sql: str) -> Statement | None:
    """The statement if `sql` is a COPY, TRUNCATE, VACUUM or ANALYZE, else None."""
    m = _FIRST.match(sql)
    if m is None or m.group(1).lower() not in _WORDS:
        return None
    c = Cursor(tokens(sql))
    verb = c.next().text
    if verb == "copy":
        from dsql.sql.copy import parse_copy
        return parse_copy(sql, c)
    if verb == "truncate":
        from dsql.sql.truncate import parse_truncate
        return parse_truncate(c)
    return _maintenance("VACUUM" if verb == "vacuum" else "ANALYZE", c)
