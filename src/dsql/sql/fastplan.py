"""A cached primary-key point SELECT described for the server's C++ fast path.

`point_plan` turns a bound SelectPlan that reads one row by its whole primary key (the plan's
`point_spec`: the PointGet and the output column positions) into a kernel PointPlan
(cpp/wire/point_query.h), or None when the fast path cannot run it exactly as the general
path would. It can when:

- every key column is int2, int4 or int8 and gets its value straight from one integer
  parameter (access.key_converter tags such converters with `key_param`; the conversion,
  "outside the column's range matches nothing", is the same in C++);
- every output is a plain column of type bool, int2, int4, int8, text or varchar (their text
  and binary forms are encoded in C++).

Rows written under an older layout version are left to the general path by the kernel itself.

Thread-safety: pure functions of immutable plans.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlglot import exp

from dsql._core._kernels import wire
from dsql.catalog.layout import codec_type
from dsql.sql.types import registry as r

_KEY_TYPES = frozenset({"int2", "int4", "int8"})
_OUTPUT_OIDS = frozenset({r.BOOL.oid, r.INT2.oid, r.INT4.oid, r.INT8.oid, r.TEXT.oid,
                          r.VARCHAR.oid})

# One RowDescription field: name, table oid, column number, type oid, type length, typmod.
Field = tuple[str, int, int, int, int, int]


def point_plan(plan: Any, nparams: int, fields: Sequence[Field], epoch: int
               ) -> wire.PointPlan | None:
    """The kernel plan for `plan` with `nparams` parameters, or None (see the module doc)."""
    spec = getattr(plan, "point_spec", None)
    if spec is None or getattr(plan, "locks", False):
        return None
    acc, positions = spec
    codec = acc.codec
    if codec.hidden_rowid or len(fields) != len(positions):
        return None
    pk = codec.pk_positions
    key_types = [codec_type(codec.types[p]) for p in pk]
    if any(t not in _KEY_TYPES for t in key_types):
        return None
    key_params = _key_params(acc, nparams)
    if key_params is None:
        return None
    value_index = {p: i for i, p in enumerate(codec.value_positions)}
    outputs: list[tuple[bool, int]] = []
    for pos in positions:
        if codec.types[pos].oid not in _OUTPUT_OIDS:
            return None
        if pos in pk:
            outputs.append((True, pk.index(pos)))
        elif pos in value_index:
            outputs.append((False, value_index[pos]))
        else:
            return None
    return wire.PointPlan(codec.table.id, key_types, key_params, nparams, codec.version,
                          _row_types(codec), outputs, list(fields), epoch)


# -- the transaction lane (cpp/wire/txn_lane.h) -------------------------------------------------

def _param_index(e: exp.Expression, nparams: int) -> int | None:
    """$n as a 0-based parameter index, or None when `e` is not a parameter."""
    if not isinstance(e, exp.Parameter) or not isinstance(e.this, exp.Literal):
        return None
    text = e.this.name
    if not text.isdigit() or not 1 <= int(text) <= nparams:
        return None
    return int(text) - 1


def update_plan(plan: Any, ast: exp.Expression, param_oids: Sequence[int], epoch: int
                ) -> wire.UpdatePlan | None:
    """The lane's plan for `UPDATE t SET c = c + $n [, ...] WHERE <whole key> = $k ...`, or
    None. It qualifies when the planner found it a single-row point update (no RETURNING, no
    index to maintain, no key column assigned), it has no other filter and the table no CHECK,
    and every SET is an integer column plus an integer parameter of its own."""
    spec = getattr(plan, "point_update", None)
    if spec is None or not isinstance(ast, exp.Update) or ast.args.get("from") \
            or ast.args.get("with"):
        return None
    access, sets, filters, writer = spec
    codec = access.codec
    if filters or writer.checks or codec.hidden_rowid:
        return None
    nparams = len(param_oids)
    key_params = _key_params(access, nparams)
    if key_params is None or any(codec_type(codec.types[p]) not in _KEY_TYPES
                                 for p in codec.pk_positions):
        return None
    table = writer.table
    value_index = {p: i for i, p in enumerate(codec.value_positions)}
    adds: list[tuple[int, int]] = []
    for eq in ast.expressions:
        col, val = eq.this, eq.expression
        if not isinstance(eq, exp.EQ) or not isinstance(col, exp.Column) or col.table \
                or not isinstance(val, exp.Add) or not isinstance(val.this, exp.Column) \
                or val.this.table or val.this.name != col.name:
            return None
        param = _param_index(val.expression, nparams)
        c = table.column(col.name)
        if param is None or c is None or param_oids[param] not in _INT_OIDS:
            return None
        pos = table.position(c.id)
        if pos not in value_index or codec_type(codec.types[pos]) not in _KEY_TYPES:
            return None
        adds.append((value_index[pos], param))
    if sorted(pos for pos, _ in sets) != sorted(codec.value_positions[i] for i, _ in adds):
        return None  # (the planner saw other assignments)
    return wire.UpdatePlan(codec.table.id, [codec_type(codec.types[p]) for p in codec.pk_positions],
                           key_params, nparams, codec.version, _row_types(codec), adds, epoch)


def insert_plan(plan: Any, ast: exp.Expression, param_oids: Sequence[int], utc: bool,
                epoch: int) -> wire.InsertPlan | None:
    """The lane's plan for `INSERT INTO t (...) VALUES (...)` of one row, or None. It
    qualifies when the table has no index, unique constraint or CHECK, every value is an
    integer parameter for an integer column or now() / CURRENT_TIMESTAMP for a timestamptz
    column (or a timestamp one when the session's zone is UTC), and every other column is
    nullable without a default."""
    spec = getattr(plan, "lane_insert", None)
    if spec is None or not isinstance(ast, exp.Insert) or ast.args.get("with"):
        return None
    writer, positions = spec
    codec = writer.codec
    table = writer.table
    if writer.indexes or writer.checks:
        return None
    values = ast.expression
    if not isinstance(values, exp.Values) or len(values.expressions) != 1:
        return None
    row = values.expressions[0]
    items = row.expressions if isinstance(row, exp.Tuple) else [row]
    if len(items) != len(positions):
        return None
    nparams = len(param_oids)
    source: dict[int, tuple[int, int]] = {}  # column position -> (source, parameter)
    for item, pos in zip(items, positions, strict=True):
        name = codec_type(codec.types[pos])
        param = _param_index(item, nparams)
        if param is not None and name in _KEY_TYPES and param_oids[param] in _INT_OIDS:
            source[pos] = (_PARAM, param)
        elif isinstance(item, exp.CurrentTimestamp) and not item.this and \
                (name == "timestamptz" or (name == "timestamp" and utc)):
            source[pos] = (_NOW, 0)
        else:
            return None
    for pos, c in enumerate(table.columns):
        if pos not in source and (c.default is not None or c.not_null):
            return None
    if codec.hidden_rowid:
        key_types, key_params = ["int8"], []
    else:
        key_types = [codec_type(codec.types[p]) for p in codec.pk_positions]
        if any(p not in source or source[p][0] != _PARAM for p in codec.pk_positions):
            return None
        key_params = [source[p][1] for p in codec.pk_positions]
    row_sources = [source.get(p, (_NULL, 0)) for p in codec.value_positions]
    not_null = [table.columns[p].not_null for p in codec.value_positions]
    return wire.InsertPlan(codec.table.id, codec.hidden_rowid, key_types, key_params, nparams,
                           codec.version, _row_types(codec), row_sources, not_null, epoch)


_NULL, _PARAM, _NOW = 0, 1, 2
_INT_OIDS = frozenset({r.INT2.oid, r.INT4.oid, r.INT8.oid})


def _key_params(access: Any, nparams: int) -> list[int] | None:
    out: list[int] = []
    for conv in access.values:
        i = getattr(conv, "key_param", None)
        if i is None or not 0 <= i < nparams:
            return None
        out.append(i)
    return out


def _row_types(codec: Any) -> list[str]:
    return [codec_type(codec.types[p]) for p in codec.value_positions]
