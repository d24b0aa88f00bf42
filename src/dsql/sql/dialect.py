"""dsql's SQL dialect: sqlglot's PostgreSQL dialect, parsing a few forms as PostgreSQL does.

    sqlglot.parse(sql, dialect=Dsql)

sqlglot reads PostgreSQL SQL for translation to other dialects, so it rewrites some calls into
portable nodes and accepts some text PostgreSQL rejects. dsql executes the tree, so each of
these changes what a statement returns; this dialect undoes them:

1. `date_part(f, x)` stays a call of date_part (double precision), not EXTRACT (numeric).
2. `upper(x)` / `lower(x)` stay themselves (sqlglot folds upper(to_hex(x)) into one hex node).
3. A function sqlglot renames (substr -> SUBSTRING, mod -> %, char_length -> LENGTH,
   position -> STRPOS) keeps the name written in `node.meta[NAME_KEY]`, for column names.
4. A typed literal binds before `::`: `DATE 'x'::timestamp` is `(DATE 'x')::timestamp`.
5. An empty item in a comma list (`SELECT a,, b`) is a syntax error, not skipped.
6. `a IS [NOT] DISTINCT FROM b` followed by IS / ISNULL / NOTNULL is a syntax error: the
   operators are non-associative in PostgreSQL's grammar (`a IS NULL IS NULL` is fine).
6b. gen_random_uuid(), random() and to_timestamp(...) stay calls of those names (sqlglot turns
   them into portable Uuid / Rand / UnixToTime / StrToTime nodes).

7. The PostgreSQL dialect itself is patched as well (install(), once, at import), so that every
parse in the process agrees, with `dialect="postgres"` too:

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

Thread-safety: install() runs at import time under the import lock; a Parser instance belongs to
one parse; the classes hold no mutable state afterwards.
Invariants:
  1. A type without a bracket suffix parses exactly as before (the original method's result
     is returned unchanged).
  2. Only ObjectIdentifier / PseudoType results are wrapped; a subscript such as `(x::oid)[1]`
     is untouched because the parenthesis ends the type first.
  3. A subscript's index expression is the one written in the statement.
"""

from __future__ import annotations

from collections.abc import Callable
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

__all__ = ["NAME_KEY", "Dsql"]

NAME_KEY = "pg_name"  # meta key: the function name as written, lower case

_LIST_ENDS = (TokenType.COMMA, TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.SEMICOLON,
              TokenType.FROM)
_IS_LEVEL = (TokenType.IS, TokenType.ISNULL, TokenType.NOTNULL)


def _named(build: Any, name: str) -> Callable[..., exp.Expression]:
    """`build` (a sqlglot FUNCTIONS entry) whose node remembers the name it was called by."""
    def named(args: list[Any], dialect: Any = None) -> exp.Expression:
        try:
            node = build(args)
        except TypeError:
            node = build(args, dialect=dialect)
        node.meta[NAME_KEY] = name
        return node
    return named


def _date_part(args: list[Any]) -> exp.Expression:
    return exp.Anonymous(this="date_part", expressions=args)


install()  # before Dsql is defined: it inherits the patched parser and the index base


class Dsql(Postgres):
    INDEX_OFFSET = 0  # subscripts as written (install())

    class Parser(Postgres.Parser):
        FUNCTIONS = {
            **Postgres.Parser.FUNCTIONS,
            "DATE_PART": _date_part,
            # sqlglot's portable nodes (Uuid, Rand, UnixToTime / StrToTime) lose PostgreSQL's
            # names and overloads: keep the calls as written
            "GEN_RANDOM_UUID": lambda args: exp.Anonymous(this="gen_random_uuid",
                                                          expressions=args),
            "RANDOM": lambda args: exp.Anonymous(this="random", expressions=args),
            "TO_TIMESTAMP": lambda args: exp.Anonymous(this="to_timestamp", expressions=args),
            "UPPER": lambda args: exp.Upper(this=args[0] if args else None),
            "LOWER": lambda args: exp.Lower(this=args[0] if args else None),
            **{n.upper(): _named(Postgres.Parser.FUNCTIONS[n.upper()], n)
               for n in ("substr", "mod", "char_length", "character_length")
               if n.upper() in Postgres.Parser.FUNCTIONS},
        }
        FUNCTION_PARSERS = {
            **{k: v for k, v in Postgres.Parser.FUNCTION_PARSERS.items() if k != "DATE_PART"},
            "POSITION": lambda self: self._named_position(),
        }

        _type_end = -1  # token index just past the last data type parsed
        _held_ops = False  # a typed literal's `::` etc. wait for the literal's cast

        def _named_position(self) -> exp.Expression:
            node = self._parse_position()
            node.meta[NAME_KEY] = "position"
            return node

        def _parse_types(self, *args: Any, **kwargs: Any) -> Any:
            out = super()._parse_types(*args, **kwargs)
            if out is not None:
                self._type_end = self._index
            return out

        def _parse_column_ops(self, this: Any) -> Any:
            if isinstance(this, exp.Literal) and this.is_string and not self._held_ops and \
                    self._index == self._type_end + 1:
                self._held_ops = True  # `TYPE 'lit'`: _parse_type casts first, then ops
                return this
            return super()._parse_column_ops(this)

        def _parse_type(self, *args: Any, **kwargs: Any) -> Any:
            out = super()._parse_type(*args, **kwargs)
            if self._held_ops:
                self._held_ops = False
                out = self._parse_column_ops(out)
            return out

        def _parse_csv(self, parse_method: Any, sep: TokenType = TokenType.COMMA) -> list[Any]:
            items = []
            item = parse_method()
            if item is not None:
                items.append(item)
            while self._match(sep):
                if isinstance(item, exp.Expression):
                    self._add_comments(item)
                item = parse_method()
                if item is None and sep == TokenType.COMMA and (
                        self._curr is None or self._curr.token_type in _LIST_ENDS):
                    self.raise_error("syntax error", self._curr or self._prev)
                if item is not None:
                    items.append(item)
            return items

        def _parse_is(self, this: Any) -> Any:
            out = super()._parse_is(this)
            if isinstance(out, (exp.NullSafeEQ, exp.NullSafeNEQ)) and self._curr is not None \
                    and self._curr.token_type in _IS_LEVEL:
                self.raise_error("syntax error", self._curr)
            return out
