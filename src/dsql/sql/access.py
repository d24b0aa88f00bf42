"""Access paths to one table's rows: point get, key-range scan, index scan, full scan.

Each path yields (row key, row) pairs read through the transaction (its snapshot merged with
its own writes). `choose_access` looks at the WHERE conjuncts: equality on every primary-key
column gives a point get; on a leading part of the key a prefix scan; a range on the first key
column a range scan; equality on the leading columns of a secondary index an index scan; else
the whole table. Key values are converted to the column's type exactly (an integer parameter
outside an int4 column's range matches nothing) or the conjunct is left to the filter.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from dsql.catalog.layout import IndexCodec, TableCodec
from dsql.sql import casts
from dsql.sql.expr import Bound, Compiler
from dsql.sql.types import registry as r

if TYPE_CHECKING:
    from dsql.sql.plan import ExecContext

Pair = tuple[bytes, tuple[Any, ...]]
_INTS = {r.INT2.oid: (-(1 << 15), 1 << 15), r.INT4.oid: (-(1 << 31), 1 << 31),
         r.INT8.oid: (-(1 << 63), 1 << 63)}
NO_MATCH = object()


def key_converter(b: Bound, col_type: r.SqlType, compiler: Compiler
                  ) -> Callable[[Sequence[Any]], Any] | None:
    """fn(params) -> the value as the key column's type (NO_MATCH when it cannot be equal),
    or None when this value cannot drive a key lookup exactly."""
    if b.column is not None:
        return None
    src, dst = b.type, col_type
    f = b.fn
    if src.oid in _INTS and dst.oid in _INTS:
        lo, hi = _INTS[dst.oid]
        i = b.param
        if i is not None:  # a plain parameter (b.fn is `p[i]`): read it without the call
            def conv_int(p: Sequence[Any]) -> Any:
                v = p[i]
                return v if v is None or lo <= v < hi else NO_MATCH
        else:
            def conv_int(p: Sequence[Any]) -> Any:
                v = f((), p)
                return v if v is None or lo <= v < hi else NO_MATCH
        # an integer parameter straight into an integer key column: the server's fast path
        # (dsql.sql.fastplan) does the same conversion in C++, PointGet fuses it into its key
        conv_int.key_param = b.param  # type: ignore[attr-defined]
        conv_int.int_range = (lo, hi)  # type: ignore[attr-defined]
        return conv_int
    if src.oid == dst.oid and dst.oid not in (r.BPCHAR.oid,):
        return lambda p: f((), p)
    if src.oid == r.UNKNOWN.oid:
        compiler._infer(b, dst)  # $1 compared with a key column takes the column's type
        conv = casts.cast_fn(r.UNKNOWN, dst.base, compiler.ctx, casts.IMPLICIT)
        return lambda p: None if (v := f((), p)) is None else conv(v)
    if src.oid == r.VARCHAR.oid and dst.oid == r.TEXT.oid or \
            src.oid == r.TEXT.oid and dst.oid == r.VARCHAR.oid:
        return lambda p: f((), p)
    return None


def conjuncts(e: exp.Expression | None) -> list[exp.Expression]:
    if e is None:
        return []
    while isinstance(e, exp.Paren):
        e = e.this
    if isinstance(e, exp.And):
        return conjuncts(e.this) + conjuncts(e.expression)
    return [e]


@dataclass
class Access(ABC):
    codec: TableCodec
    kind: str  # "point", "range", "index", "full"
    exact: bool  # every WHERE conjunct was consumed exactly: no filter needed

    @abstractmethod
    def run(self, ec: ExecContext) -> Iterator[Pair]:
        """The (key, row) pairs this path reads, in key order."""


class FullScan(Access):
    def __init__(self, codec: TableCodec, lo: bytes | None = None, hi: bytes | None = None,
                 bounds: Callable[[Sequence[Any]], tuple[bytes, bytes] | None] | None = None,
                 kind: str = "full", exact: bool = False) -> None:
        super().__init__(codec, kind, exact)
        lo0, hi0 = codec.key_bounds()
        self.lo, self.hi = lo or lo0, hi or hi0
        self.bounds = bounds

    def run(self, ec: ExecContext) -> Iterator[Pair]:
        lo, hi = self.lo, self.hi
        if self.bounds is not None:
            b = self.bounds(ec.params)
            if b is None:
                return
            lo, hi = max(lo, b[0]), min(hi, b[1])
            if lo >= hi:
                return
        batch: list[tuple[bytes, bytes]] = []
        decode_many = self.codec.decode_many
        for kv in ec.txn.scan(lo, hi):
            batch.append(kv)
            if len(batch) >= 256:
                yield from zip([k for k, _ in batch], decode_many(batch), strict=True)
                batch = []
        if batch:
            yield from zip([k for k, _ in batch], decode_many(batch), strict=True)


def _int_param_key(i: int, lo: int, hi: int, encode: Callable[[tuple[Any, ...]], bytes]
                   ) -> Callable[[Sequence[Any]], bytes | None]:
    """PointGet.key for a one-column integer key equal to integer parameter i: key_converter's
    conv_int and the encoding in one call (None when no row can match)."""
    def key(params: Sequence[Any]) -> bytes | None:
        v = params[i]
        return None if v is None or not lo <= v < hi else encode((v,))
    return key


class PointGet(Access):
    def __init__(self, codec: TableCodec, values: list[Callable[[Sequence[Any]], Any]],
                 exact: bool) -> None:
        super().__init__(codec, "point", exact)
        self.values = values
        self.encode = codec.key_layout.encode
        if len(values) == 1:
            i = getattr(values[0], "key_param", None)
            bounds = getattr(values[0], "int_range", None)
            if i is not None and bounds is not None:
                self.key = _int_param_key(i, bounds[0], bounds[1], self.encode)  # type: ignore

    def key(self, params: Sequence[Any]) -> bytes | None:
        values = self.values
        if len(values) == 1:  # the common single-column key, without generators
            v = values[0](params)
            return None if v is None or v is NO_MATCH else self.encode((v,))
        vals = tuple(f(params) for f in values)
        if any(v is None or v is NO_MATCH for v in vals):
            return None
        return self.encode(vals)

    def run(self, ec: ExecContext) -> Iterator[Pair]:
        key = self.key(ec.params)
        if key is None:
            return
        v = ec.txn.get(key)
        if v is not None:
            yield key, self.codec.decode(key, v)


class IndexScan(Access):
    def __init__(self, codec: TableCodec, icodec: IndexCodec,
                 values: list[Callable[[Sequence[Any]], Any]]) -> None:
        super().__init__(codec, "index", False)
        self.icodec = icodec
        self.values = values

    def run(self, ec: ExecContext) -> Iterator[Pair]:
        vals = tuple(f(ec.params) for f in self.values)
        if any(v is None or v is NO_MATCH for v in vals):
            return
        lo, hi = self.icodec.layout.prefix_bounds(vals)
        pks = [self.icodec.pk_of_entry(k) for k, _ in ec.txn.scan(lo, hi)]
        for start in range(0, len(pks), 256):
            chunk = pks[start:start + 256]
            got = ec.txn.get_many(chunk)
            for k, v in zip(chunk, got, strict=True):
                if v is not None:
                    yield k, self.codec.decode(k, v)


def choose_access(codec: TableCodec, indexes: list[IndexCodec], relation: str,
                  where: list[exp.Expression], compiler: Compiler) -> Access:
    table = codec.table
    indexes = [ic for ic in indexes if not ic.index.building]  # CREATE INDEX ASYNC not done
    positions = {c.name: i for i, c in enumerate(table.columns)}
    eq: dict[int, Callable[[Sequence[Any]], Any]] = {}
    ranges: list[tuple[int, str, Callable[[Sequence[Any]], Any]]] = []
    consumed = 0
    for c in where:
        hit = _column_vs_value(c, relation, positions, compiler, codec)
        if hit is None:
            continue
        pos, op, conv = hit
        if op == "=":
            if pos not in eq:
                eq[pos] = conv
                consumed += 1
        else:
            ranges.append((pos, op, conv))
    pk = codec.pk_positions
    if pk and all(p in eq for p in pk):
        return PointGet(codec, [eq[p] for p in pk], exact=consumed == len(where) == len(pk))
    if pk:
        prefix = []
        for p in pk:
            if p not in eq:
                break
            prefix.append(eq[p])
        nxt = pk[len(prefix)]
        rng = [(op, conv) for pos, op, conv in ranges if pos == nxt]
        if prefix or rng:
            layout = codec.key_layout

            def bounds(params: Sequence[Any]) -> tuple[bytes, bytes] | None:
                vals = tuple(f(params) for f in prefix)
                if any(v is None or v is NO_MATCH for v in vals):
                    return None
                lo, hi = layout.prefix_bounds(vals)
                for op, conv in rng:
                    v = conv(params)
                    if v is None or v is NO_MATCH:
                        return None
                    blo, bhi = layout.prefix_bounds(vals + (v,))
                    if op == ">":
                        lo = max(lo, bhi)
                    elif op == ">=":
                        lo = max(lo, blo)
                    elif op == "<":
                        hi = min(hi, blo)
                    else:
                        hi = min(hi, bhi)
                return lo, hi
            return FullScan(codec, bounds=bounds, kind="range")
    for ic in indexes:
        prefix = []
        for p in ic.positions:
            if p not in eq:
                break
            prefix.append(eq[p])
        if prefix:
            return IndexScan(codec, ic, prefix)
    return FullScan(codec)


_FLIP = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_OPS = {exp.EQ: "=", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">="}


def _column_vs_value(c: exp.Expression, relation: str, positions: dict[str, int],
                     compiler: Compiler, codec: TableCodec
                     ) -> tuple[int, str, Callable[[Sequence[Any]], Any]] | None:
    op = _OPS.get(type(c))
    if op is None:
        return None
    left, right = c.this, c.expression
    if not isinstance(left, exp.Column):
        left, right = right, left
        op = _FLIP[op]
    if not isinstance(left, exp.Column) or (left.table and left.table != relation):
        return None
    pos = positions.get(left.name)
    if pos is None or right.find(exp.Select):
        return None
    if right.find(exp.Column) is not None and not _only_outer_columns(right, compiler):
        return None
    try:
        b = compiler.compile(right)
    except Exception:
        return None
    conv = key_converter(b, codec.types[pos], compiler)
    if conv is None:
        return None
    return pos, op, conv


def _only_outer_columns(e: exp.Expression, compiler: Compiler) -> bool:
    """Whether every column in `e` belongs to an enclosing query (a correlated subquery's
    `inner.pk = outer.col` is then a key lookup: the value is fixed for one run)."""
    scope = compiler.scope
    return compiler.outer is not None and all(
        not scope.has(c.table or None, c.name) for c in e.find_all(exp.Column))
