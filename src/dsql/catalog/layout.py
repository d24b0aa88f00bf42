"""How a table's rows and index entries are laid out in the key-value store.

    row key    := prefix(table id) pk-column*            (KeyLayout; hidden int8 row id when the
                                                          table has no primary key)
    row value  := layout-version:uint8 RowLayout(non-key columns of that layout)
    index key  := prefix(index id) indexed-column* pk-column*      value := ""  (empty)
    unique guard (claimed at COMMIT, never written) := prefix(index id) indexed-column*

Codecs are the C++ ones (dsql.storage.codec): one call per key or row (or per batch). json is
stored as its text; jsonb as its canonical text, parsed again on read.

Invariants:
  1. `TableCodec.decode(key, value)` gives the table's current columns in order, whatever
     layout version the value was written with (columns added later read as their `missing`
     value, dropped columns are skipped).
  2. Every value written now carries the current layout version (`len(table.layouts) - 1`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from dsql.catalog.objects import Index, Table
from dsql.errors import FeatureNotSupported
from dsql.sql.types import json as tjson
from dsql.sql.types import registry as r
from dsql.storage.codec import KeyLayout, RowLayout

_CODEC_NAME = {"json": "text", "jsonb": "text"}
_STORABLE = {"bool", "int2", "int4", "int8", "float4", "float8", "numeric", "text", "varchar",
             "bpchar", "bytea", "date", "time", "timestamp", "timestamptz", "interval", "uuid",
             "json", "jsonb"}
MAX_LAYOUTS = 255


def codec_type(t: r.SqlType) -> str:
    if t.name not in _STORABLE:
        raise FeatureNotSupported(f"columns of type {r.format_type(t)} are not supported")
    return _CODEC_NAME.get(t.name, t.name)


def _to_store(t: r.SqlType) -> Callable[[Any], Any] | None:
    if t.oid == r.JSONB.oid:
        return lambda v: None if v is None else tjson.jsonb_out(v)
    return None


def _from_store(t: r.SqlType) -> Callable[[Any], Any] | None:
    if t.oid == r.JSONB.oid:
        return lambda v: None if v is None else tjson.jsonb_in(v)
    return None


def _getter(idx: Sequence[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    if len(idx) == 0:
        return lambda src: ()
    if len(idx) == 1:
        i = idx[0]
        return lambda src: (src[i],)
    return itemgetter(*idx)  # type: ignore[return-value]


class TableCodec:
    """Encodes and decodes one table's rows (full tuples in column order) and keys."""

    def __init__(self, table: Table) -> None:
        self.table = table
        cols = table.columns
        self.types = [c.type for c in cols]
        pos = {c.id: i for i, c in enumerate(cols)}
        self.hidden_rowid = not table.pk
        self.pk_positions = [pos[cid] for cid in table.pk]
        key_types = ["int8"] if self.hidden_rowid else [codec_type(cols[p].type)
                                                        for p in self.pk_positions]
        self.key_layout = KeyLayout(table.id, [(t, False, False) for t in key_types])
        self.version = len(table.layouts) - 1
        assert 0 <= self.version < MAX_LAYOUTS, "a table has at least one layout"
        current = table.layouts[-1]
        self.value_positions = [pos[cid] for cid in current]
        self.row_layout = RowLayout([codec_type(cols[p].type) for p in self.value_positions])
        self.key_of = _getter(self.pk_positions)
        self.value_of = _getter(self.value_positions)
        self._prefix = bytes([self.version])
        # decoding: per layout version, (RowLayout, assemble(key_values + row_values + missing)
        # or None when key_values + row_values is the row already)
        self._decoders: dict[int, tuple[RowLayout,
                                        Callable[[Sequence[Any]], tuple[Any, ...]] | None,
                                        tuple[Any, ...]]] = {}
        nk = 1 if self.hidden_rowid else len(self.pk_positions)
        for v, layout in enumerate(table.layouts):
            lay = RowLayout([codec_type(r.type_by_oid(*self._type_of(table, cid)))
                             for cid in layout])
            src_index: dict[int, int] = {}
            if not self.hidden_rowid:
                for k, cid in enumerate(table.pk):
                    src_index[cid] = k
            for k, cid in enumerate(layout):
                src_index[cid] = nk + k
            missing: list[Any] = []
            idx: list[int] = []
            base = nk + len(layout)
            for c in cols:
                if c.id in src_index:
                    idx.append(src_index[c.id])
                else:
                    idx.append(base + len(missing))
                    missing.append(None if c.missing is None else c.type.input(c.missing))
            # (a layout that already lists the columns in table order needs no reassembly)
            same = not missing and idx == list(range(len(idx)))
            self._decoders[v] = (lay, None if same else _getter(idx), tuple(missing))
        self._conv_in = [_to_store(t) for t in self.types]
        self._conv_out = [(i, f) for i, t in enumerate(self.types)
                          if (f := _from_store(t)) is not None]
        self._needs_conv = any(f is not None for f in self._conv_in)

    @staticmethod
    def _type_of(table: Table, cid: int) -> tuple[int, int]:
        for c in table.columns:
            if c.id == cid:
                return c.type_oid, c.typmod
        for c in table.dropped:  # a dropped column in an old layout
            if c.id == cid:
                return c.type_oid, c.typmod
        raise KeyError(cid)

    # -- rows -----------------------------------------------------------------------------------
    def encode_key(self, row: Sequence[Any], rowid: int | None = None) -> bytes:
        if self.hidden_rowid:
            assert rowid is not None
            return self.key_layout.encode((rowid,))
        return self.key_layout.encode(self.key_of(row))

    def encode_value(self, row: Sequence[Any]) -> bytes:
        if self._needs_conv:
            row = [v if f is None else f(v) for v, f in zip(row, self._conv_in, strict=True)]
        return self._prefix + self.row_layout.encode(self.value_of(row))

    def decode(self, key: bytes, value: bytes) -> tuple[Any, ...]:
        lay, assemble, missing = self._decoders[value[0]]
        if assemble is None:  # key columns first, then the values, in table order
            row = self.key_layout.decode(key) + lay.decode(value[1:])
        else:
            row = assemble(self.key_layout.decode(key) + lay.decode(value[1:]) + missing)
        if self._conv_out:
            out = list(row)
            for i, f in self._conv_out:
                out[i] = f(out[i])
            return tuple(out)
        return row

    def decode_many(self, pairs: Sequence[tuple[bytes, bytes]]) -> list[tuple[Any, ...]]:
        if not pairs:
            return []
        keys = self.key_layout.decode_many([k for k, _ in pairs])
        ver = self.version
        if not self._conv_out and all(v[0] == ver for _, v in pairs):
            lay, assemble, missing = self._decoders[ver]
            vals = lay.decode_many([v[1:] for _, v in pairs])
            if assemble is None:
                return [k + v for k, v in zip(keys, vals, strict=True)]
            if missing:
                return [assemble(k + v + missing) for k, v in zip(keys, vals, strict=True)]
            return [assemble(k + v) for k, v in zip(keys, vals, strict=True)]
        return [self.decode(k, v) for k, v in pairs]

    def key_bounds(self, prefix_values: Sequence[Any] = ()) -> tuple[bytes, bytes]:
        return self.key_layout.prefix_bounds(tuple(prefix_values))


class IndexCodec:
    """Encodes one secondary index's entries from a table's full rows."""

    def __init__(self, index: Index, table: Table, table_codec: TableCodec) -> None:
        self.index = index
        pos = {c.id: i for i, c in enumerate(table.columns)}
        self.positions = [pos[ic.column_id] for ic in index.columns]
        types = [table.columns[p].type for p in self.positions]
        cols = [(codec_type(t), ic.descending, ic.nulls_first)
                for t, ic in zip(types, index.columns, strict=True)]
        kcols = list(table_codec.key_layout.columns)
        self.layout = KeyLayout(index.id, cols + kcols)
        self.guard_layout = KeyLayout(index.id, cols)
        self.indexed = _getter(self.positions)
        self.nindexed = len(cols)
        self.table_codec = table_codec
        for t in types:
            if t.oid in (r.JSON.oid, r.JSONB.oid):
                raise FeatureNotSupported(f"indexes on type {r.format_type(t)} are not "
                                          "supported")

    def entry(self, row: Sequence[Any], row_key: bytes) -> bytes:
        pk = self.table_codec.key_layout.decode(row_key)
        return self.layout.encode(self.indexed(row) + pk)

    def guard(self, row: Sequence[Any]) -> bytes | None:
        """The key a unique insert claims; None when a NULL makes the row exempt."""
        vals = self.indexed(row)
        if any(v is None for v in vals):
            return None
        return self.guard_layout.encode(vals)

    def pk_of_entry(self, entry: bytes) -> bytes:
        vals = self.layout.decode(entry)
        return self.table_codec.key_layout.encode(vals[self.nindexed:])
