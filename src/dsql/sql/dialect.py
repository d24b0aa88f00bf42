"""dsql's tweaks to sqlglot's PostgreSQL parser, installed once when dsql.sql is imported.

Why: sqlglot parses the object-identifier types (oid, regclass, regtype, regproc, ...) and the
pseudo-types (cstring, ...) into ObjectIdentifier / PseudoType nodes and returns before it looks
for array brackets, so `$1::oid[]`, `x::regclass[]` and `CAST(x AS oid[])` fail to parse
("Required keyword: 'expressions' missing for Bracket") although `x::int4[]` works. asyncpg's
type-introspection query sends `ti.oid = any($1::oid[])`.

What: after sqlglot has parsed such a type, `[]` and `[N]` suffixes (any number of them) wrap it
in an ARRAY DataType exactly as sqlglot does for the other types, so names.sqltype_of() sees
"OID[]". The patch is idempotent and affects only the postgres dialect, so every parse in the
process (statements, stored views, defaults) agrees.

Also: sqlglot rewrites PostgreSQL's 1-based subscripts to 0-based when the index is an integer
it can type (`a[2]` -> Bracket(1), `a[0]` -> Bracket(-1)) but not otherwise (`a[i]` stays), so
the executor could not know which base an index is in. INDEX_OFFSET = 0 keeps every subscript
as written (parse and generate are then both the identity), and the executor applies
PostgreSQL's rule (1-based arrays, 0-based int2vector / oidvector) itself.

Thread-safety: install() runs at import time under the import lock; afterwards read-only.
Invariants:
  1. A type without a bracket suffix parses exactly as before (the original method's result
     is returned unchanged).
  2. Only ObjectIdentifier / PseudoType results are wrapped; a subscript such as `(x::oid)[1]`
     is untouched because the parenthesis ends the type first.
  3. A subscript's index expression is the one written in the statement.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.tokens import TokenType

_BRACKETS_MAX = 6  # PostgreSQL's MAXDIM: a bound on the suffix loop
_INSTALLED = "_dsql_array_suffix"


def _array_suffix(parser: Any, this: exp.Expression) -> exp.Expression:
    """Consume `[]` / `[N]` pairs after `this` and wrap it once per pair."""
    assert this is not None
    for _ in range(_BRACKETS_MAX):
        index = parser._index
        if not parser._match(TokenType.L_BRACKET):
            break
        if parser._match(TokenType.NUMBER):
            pass  # PostgreSQL accepts and ignores a declared size
        if not parser._match(TokenType.R_BRACKET):
            parser._retreat(index)  # not a type suffix (a subscript with an expression)
            break
        this = exp.DataType(this=exp.DType.ARRAY, expressions=[this], nested=True)
    assert isinstance(this, exp.Expression)
    return this


def install() -> None:
    """Patch Postgres.Parser._parse_types once (idempotent)."""
    parser_cls = Postgres.Parser
    if getattr(parser_cls, _INSTALLED, False):
        return
    original = parser_cls._parse_types

    def _parse_types(self: Any, *args: Any, **kwargs: Any) -> exp.Expression | None:
        this = original(self, *args, **kwargs)
        if isinstance(this, (exp.ObjectIdentifier, exp.PseudoType)):
            return _array_suffix(self, this)
        return this

    parser_cls._parse_types = _parse_types  # type: ignore[method-assign]
    Postgres.INDEX_OFFSET = 0  # subscripts as written (see the module docstring)
    setattr(parser_cls, _INSTALLED, True)
    assert getattr(parser_cls, _INSTALLED)


install()
