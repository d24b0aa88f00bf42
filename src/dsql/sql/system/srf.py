"""Set-returning functions in the select list: unnest(array), generate_subscripts(array, 1),
generate_series(a, b [, step]).

Such a call evaluates to a SetValue (the list of its rows); after projection the planner
expands each output row into as many rows as its longest set, running the sets in lockstep and
padding shorter ones with NULL (PostgreSQL 10+ semantics). A row whose set is empty yields no
rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlglot import exp

from dsql.sql.functions.catalog import ANY, FunctionDef, add_function
from dsql.sql.system import types as st
from dsql.sql.types import registry as r

SRF_NAMES = frozenset(("unnest", "explode", "generate_subscripts", "generate_series",
                       "exploding_generate_series", "explodinggenerateseries"))
ROWS_MAX = 1 << 24


class SetValue(list):  # type: ignore[type-arg]
    """The rows a set-returning function produced for one input row."""


def is_srf(e: exp.Expression) -> bool:
    """Whether a select-list item is (an alias of) a set-returning function call."""
    while isinstance(e, (exp.Alias, exp.Paren, exp.Dot)):
        e = e.this if not isinstance(e, exp.Dot) else e.expression
    if isinstance(e, (exp.Explode, exp.ExplodingGenerateSeries)):
        return True
    if isinstance(e, exp.GenerateSeries):
        return True
    return isinstance(e, exp.Anonymous) and e.name.lower() in SRF_NAMES


def expand(rows: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for row in rows:
        sets = [i for i, v in enumerate(row) if type(v) is SetValue]
        if not sets:
            out.append(row)
            continue
        n = max(len(row[i]) for i in sets)
        for k in range(n):
            out.append(tuple((v[k] if k < len(v) else None) if type(v) is SetValue else v
                             for v in row))
        assert len(out) <= ROWS_MAX, "set-returning function produced too many rows"
    return out


def _elem(types: tuple[Any, ...]) -> Any:
    e = st.ELEMENT_OF.get(types[0].oid)
    if e is None and types[0].oid == st.INT2VECTOR.oid:
        return r.INT2
    if e is None and types[0].oid == st.OIDVECTOR.oid:
        return st.OID
    return e if e is not None else r.TEXT


def _series(a: int, b: int, step: int = 1) -> SetValue:
    if step == 0:
        from dsql.errors import InvalidParameterValue
        raise InvalidParameterValue("step size cannot equal zero")
    return SetValue(range(a, b + (1 if step > 0 else -1), step))


for _name in ("unnest", "explode"):
    add_function(FunctionDef(_name, (ANY,), r.TEXT, lambda a: SetValue(a), result_fn=_elem))
add_function(FunctionDef("generate_subscripts", (ANY, r.INT4), r.INT4,
                         lambda a, d: SetValue(range(1, len(a) + 1)) if d == 1 else
                         SetValue()))
for _name in ("generate_series", "exploding_generate_series", "explodinggenerateseries"):
    for _t in (r.INT4, r.INT8):
        add_function(FunctionDef(_name, (_t, _t), _t, _series))
        add_function(FunctionDef(_name, (_t, _t, _t), _t, _series))
