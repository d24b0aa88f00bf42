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
    key_params: list[int] = []
    for conv in acc.values:
        i = getattr(conv, "key_param", None)
        if i is None or not 0 <= i < nparams:
            return None
        key_params.append(i)
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
    row_types = [codec_type(codec.types[p]) for p in codec.value_positions]
    return wire.PointPlan(codec.table.id, key_types, key_params, nparams, codec.version,
                          row_types, outputs, list(fields), epoch)
