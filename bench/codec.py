"""Key and row codecs: batch encode/decode throughput against struct and pickle.

The row shape is a ~100-byte table row: an int8 key and the values (int4, text of ~70
characters, float8, timestamptz). Baselines, measured in the same run on the same data:

- struct: the best plain-Python codec of the same shape (struct.pack / unpack_from, str
  encode / decode, datetime <-> microseconds by arithmetic), one row per call as a store holds
  them; for keys, the same order-preserving layout built with struct.pack and bytes.replace.
- pickle: pickle.dumps / pickle.loads of each row tuple.

Ratios are dsql / baseline in rows per second (higher is better). The storage target is range
scans decoded into Python tuples at >= 3,000,000 rows/s: codec.row.scan_decode_many decodes the
rows in scan-sized batches (1,000 rows) and is measured against it.
"""

from __future__ import annotations

import datetime
import pickle
import struct
import time
from collections.abc import Callable
from typing import Any

from dsql.bench.harness import Result

from dsql.storage.codec import KeyLayout, RowLayout, key_column

DESCRIPTION = "key and row codec encode_many/decode_many rows/s against struct and pickle"

UTC = datetime.timezone.utc
PG_EPOCH = datetime.datetime(2000, 1, 1, tzinfo=UTC)
ROW_TYPES = ["int4", "text", "float8", "timestamptz"]
ROW_TARGET = 3_000_000
SCAN_BATCH = 1_000


def _rows(n: int) -> list[tuple[Any, ...]]:
    base = datetime.datetime(2024, 6, 1, tzinfo=UTC)
    step = datetime.timedelta(seconds=1, microseconds=1)
    return [(i * 7 % 1_000_003, f"customer-{i:08d} placed an order for a widget of size {i % 97}",
             i * 0.25, base + i * step) for i in range(n)]


def _best_rate(fn: Callable[[], object], items: int, repeats: int) -> float:
    """Items per second of the best of `repeats` timed calls of fn (which handles `items`),
    after one untimed call that lets the process's heap grow to the size fn needs."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return items / best


def _drain(decode: Callable[[list[bytes]], list[Any]], batches: list[list[bytes]]) -> None:
    """Decodes batch after batch, dropping each result before the next (a consumed scan)."""
    for batch in batches:
        decode(batch)


# ---- plain-Python baselines of the same shape ------------------------------------------------

_ROW_HEAD = struct.Struct("<B i d q I")  # null bitmap, int4, float8, µs, text length
_KEY_INT8 = struct.Struct(">I B Q")
_KEY_TAIL = struct.Struct(">B Q")


def _struct_encode_row(r: tuple[Any, ...]) -> bytes:
    text = r[1].encode()
    delta = r[3] - PG_EPOCH
    us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return _ROW_HEAD.pack(0, r[0], r[2], us, len(text)) + text


def _struct_decode_row(b: bytes, _delta: Any = datetime.timedelta,
                       _unpack: Any = _ROW_HEAD.unpack_from, _size: int = _ROW_HEAD.size,
                       _epoch: Any = PG_EPOCH) -> tuple[Any, ...]:
    _, i4, f8, us, n = _unpack(b)
    return (i4, b[_size:_size + n].decode(), f8, _epoch + _delta(microseconds=us))


def _struct_key_int8(prefix: int, v: int) -> bytes:
    return _KEY_INT8.pack(prefix, 1, (v + (1 << 63)) & 0xFFFF_FFFF_FFFF_FFFF)


def _struct_key_text_int8(prefix: int, s: str, v: int) -> bytes:
    escaped = s.encode().replace(b"\x00", b"\x00\xff")
    return (struct.pack(">IB", prefix, 1) + escaped + b"\x00\x01"
            + _KEY_TAIL.pack(1, (v + (1 << 63)) & 0xFFFF_FFFF_FFFF_FFFF))


def run(quick: bool) -> list[Result]:
    n = 50_000 if quick else 300_000
    repeats = 5 if quick else 9
    rows = _rows(n)
    layout = RowLayout(ROW_TYPES)
    encoded = layout.encode_many(rows)
    assert layout.decode_many(encoded[:10]) == rows[:10]
    struct_encoded = [_struct_encode_row(r) for r in rows]
    assert [_struct_decode_row(b) for b in struct_encoded[:10]] == rows[:10]
    pickled = [pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL) for r in rows]
    row_bytes = sum(map(len, encoded)) / n

    # Rows. A range scan hands rows over in batches that the consumer drops before the next
    # one, so memory is reused: "scan" decodes SCAN_BATCH rows at a time and drops them. The
    # whole-result variant keeps nothing either but allocates the whole result at once, so it
    # also pays the kernel for fresh pages (CPython returns freed arenas to the OS).
    batches = [encoded[i:i + SCAN_BATCH] for i in range(0, n, SCAN_BATCH)]
    struct_batches = [struct_encoded[i:i + SCAN_BATCH] for i in range(0, n, SCAN_BATCH)]
    pickle_batches = [pickled[i:i + SCAN_BATCH] for i in range(0, n, SCAN_BATCH)]
    scan = _best_rate(lambda: _drain(layout.decode_many, batches), n, repeats)
    scan_struct = _best_rate(
        lambda: _drain(lambda b: [_struct_decode_row(r) for r in b], struct_batches), n, repeats)
    scan_pickle = _best_rate(
        lambda: _drain(lambda b: list(map(pickle.loads, b)), pickle_batches), n, repeats)
    enc = _best_rate(lambda: layout.encode_many(rows), n, repeats)
    enc_struct = _best_rate(lambda: [_struct_encode_row(r) for r in rows], n, repeats)
    enc_pickle = _best_rate(lambda: [pickle.dumps(r, protocol=5) for r in rows], n, repeats)
    dec = _best_rate(lambda: layout.decode_many(encoded), n, repeats)
    dec_struct = _best_rate(lambda: [_struct_decode_row(b) for b in struct_encoded], n, repeats)
    dec_pickle = _best_rate(lambda: list(map(pickle.loads, pickled)), n, repeats)
    one = _best_rate(lambda: [layout.decode(b) for b in encoded], n, repeats)

    # Keys: (int8) and (text, int8).
    k1 = KeyLayout(42, [key_column("int8")])
    k1_values = [(r[0] * 1_000_003 - 2**40,) for r in rows]
    k2 = KeyLayout(43, [key_column("text"), key_column("int8")])
    k2_values = [(r[1][:24], r[0]) for r in rows]
    assert k1.encode_many(k1_values[:5]) == [_struct_key_int8(42, v[0]) for v in k1_values[:5]]
    assert k2.encode_many(k2_values[:5]) == [_struct_key_text_int8(43, *v) for v in k2_values[:5]]
    k1_enc = _best_rate(lambda: k1.encode_many(k1_values), n, repeats)
    k1_struct = _best_rate(lambda: [_struct_key_int8(42, v[0]) for v in k1_values], n, repeats)
    k2_enc = _best_rate(lambda: k2.encode_many(k2_values), n, repeats)
    k2_struct = _best_rate(lambda: [_struct_key_text_int8(43, *v) for v in k2_values], n, repeats)
    k2_keys = k2.encode_many(k2_values)
    k2_dec = _best_rate(lambda: k2.decode_many(k2_keys), n, repeats)
    k2_pickled = [pickle.dumps(v, protocol=5) for v in k2_values]
    k2_dec_pickle = _best_rate(lambda: list(map(pickle.loads, k2_pickled)), n, repeats)
    k1_one = _best_rate(lambda: [k1.encode(v) for v in k1_values], n, repeats)

    shape = {"rows": n, "row_bytes": round(row_bytes, 1),
             "struct_row_bytes": round(sum(map(len, struct_encoded)) / n, 1),
             "pickle_row_bytes": round(sum(map(len, pickled)) / n, 1)}
    rps = "rows/s"
    return [
        Result("codec.row.scan_decode_many", scan, rps, better="higher", baseline=scan_struct,
               baseline_name="struct.unpack_from per row", target=">= 3,000,000 rows/s",
               meets_target=scan >= ROW_TARGET, extra={**shape, "batch_rows": SCAN_BATCH}),
        Result("codec.row.scan_decode_many.vs_pickle", scan, rps, better="higher",
               baseline=scan_pickle, baseline_name="pickle.loads per row"),
        Result("codec.row.decode_many.whole_result", dec, rps, better="higher",
               baseline=dec_struct, baseline_name="struct.unpack_from per row", extra=shape),
        Result("codec.row.decode_many.whole_result.vs_pickle", dec, rps, better="higher",
               baseline=dec_pickle, baseline_name="pickle.loads per row"),
        Result("codec.row.decode_single_calls", one, rps, better="higher", baseline=dec,
               baseline_name="decode_many"),
        Result("codec.row.encode_many", enc, rps, better="higher", baseline=enc_struct,
               baseline_name="struct.pack per row", extra=shape),
        Result("codec.row.encode_many.vs_pickle", enc, rps, better="higher", baseline=enc_pickle,
               baseline_name="pickle.dumps per row"),
        Result("codec.key.int8.encode_many", k1_enc, "keys/s", better="higher",
               baseline=k1_struct, baseline_name="struct.pack per key"),
        Result("codec.key.int8.encode_single_calls", k1_one, "keys/s", better="higher",
               baseline=k1_struct, baseline_name="struct.pack per key"),
        Result("codec.key.text_int8.encode_many", k2_enc, "keys/s", better="higher",
               baseline=k2_struct, baseline_name="struct.pack + bytes.replace per key"),
        Result("codec.key.text_int8.decode_many", k2_dec, "keys/s", better="higher",
               baseline=k2_dec_pickle, baseline_name="pickle.loads per key"),
    ]
