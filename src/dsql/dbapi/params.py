"""psycopg-style placeholders (`%s`, `%(name)s`, `%%`) -> PostgreSQL's `$n`, cached per text.

As in psycopg, every `%` of a query with parameters is a placeholder or `%%`, also inside
string literals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from dsql.dbapi.exceptions import ProgrammingError


@lru_cache(maxsize=4096)
def convert(query: str) -> tuple[str, tuple[str, ...] | int]:
    """(text with $n, parameter names in order) or (text, count) for positional %s."""
    out: list[str] = []
    names: list[str] = []
    positional = 0
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c == "%" and i + 1 < n:
            nxt = query[i + 1]
            if nxt == "%":
                out.append("%")
                i += 2
                continue
            if nxt == "s":
                positional += 1
                out.append(f"${positional}")
                i += 2
                continue
            if nxt == "(":
                end = query.find(")s", i)
                if end < 0:
                    raise ProgrammingError("incomplete placeholder: '%('")
                name = query[i + 2:end]
                if name in names:
                    out.append(f"${names.index(name) + 1}")
                else:
                    names.append(name)
                    out.append(f"${len(names)}")
                i = end + 2
                continue
            raise ProgrammingError(f"only '%s', '%b', '%t' are allowed as placeholders, got "
                                   f"'%{nxt}'")
        out.append(c)
        i += 1
    if names and positional:
        raise ProgrammingError("mixing named and positional placeholders is not supported")
    return "".join(out), (tuple(names) if names else positional)


def bind(query: str, params: Sequence[Any] | Mapping[str, Any] | None
         ) -> tuple[str, Sequence[Any]]:
    if params is None:
        return query, ()
    text, spec = convert(query)
    if isinstance(spec, tuple):
        if not isinstance(params, Mapping):
            raise ProgrammingError("query parameter names require a mapping of parameters")
        try:
            return text, tuple(params[k] for k in spec)
        except KeyError as e:
            raise ProgrammingError(f"query parameter missing: {e.args[0]}") from None
    if isinstance(params, Mapping):
        if spec == 0:
            return text, ()
        raise ProgrammingError("query parameters should be a sequence for %s placeholders")
    if len(params) != spec:
        raise ProgrammingError(f"the query has {spec} placeholders but {len(params)} "
                               "parameters were passed")
    return text, params
