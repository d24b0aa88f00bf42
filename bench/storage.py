"""The multi-version store against a Python dict, sortedcontainers.SortedDict and sqlite3.

Rows are 16-byte keys with 84-byte values (100 raw bytes), loaded in random key order in
transactions of 1,000 rows. Measured, each with its baselines on the same rows in the same run:

- batched point gets: MvccStore.get_many over batches of 1,000 random keys (keys/s), against
  a dict comprehension over dict.get, and sqlite3 `WHERE k IN (...)` on a WITHOUT ROWID table;
- single get: MvccStore.get per key (ns), against dict.get and a sqlite3 primary-key SELECT;
- range scan into Python (key, value) tuples, forward and reverse, 1,000 rows per call (rows/s),
  against SortedDict.irange and a sqlite3 `ORDER BY k LIMIT 1000` paging query;
- memory per stored row (allocated bytes / 100 raw bytes), against the dict's objects and the
  sqlite3 database's pages;
- apply throughput (rows/s), against dict.update and sqlite3 executemany in one transaction;
- a table scan decoded into column tuples: rows of (int8 key; int4, text, float8, timestamptz)
  encoded with the row codec, scanned 1,000 per call and decoded in place from the store's
  memory (RowLayout.scan_decoded; separately, with the key columns decoded too), against
  sqlite3 paging the same columns.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from itertools import islice

from dsql.bench.harness import Result
from sortedcontainers import SortedDict

from dsql.storage.codec import KeyLayout, RowLayout, key_column
from dsql.storage.store import MvccStore

DESCRIPTION = "MVCC store: point gets, scans, memory/row vs dict, SortedDict and sqlite3"

KEY_BYTES = 16
VALUE_BYTES = 84
BATCH = 1000


def _best(fn: Callable[[], float], repeats: int) -> float:
    """The best (lowest) of `repeats` timings in seconds."""
    return min(fn() for _ in range(repeats))


def _timed(fn: Callable[[], object]) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    return run


def run(quick: bool) -> list[Result]:
    rows = 100_000 if quick else 1_000_000
    repeats = 3 if quick else 5
    rng = random.Random(42)
    ids = list(range(rows))
    rng.shuffle(ids)
    keys = [b"%016d" % (i * 7919 % 10**16) for i in ids]  # random order, distinct
    values = [(b"v%015d" % i) + b"x" * (VALUE_BYTES - 16) for i in ids]
    assert len(keys[0]) == KEY_BYTES and len(values[0]) == VALUE_BYTES
    pairs = list(zip(keys, values, strict=True))
    batches = [pairs[b:b + BATCH] for b in range(0, rows, BATCH)]

    # ---- load -------------------------------------------------------------------------------
    store = MvccStore()

    def load_store() -> None:
        for ts, batch in enumerate(batches, start=1):
            store.apply(ts, batch)
        store.advance_watermark(len(batches))

    t_store_load = _timed(load_store)()
    ts = store.watermark
    d: dict[bytes, bytes] = {}
    t_dict_load = _timed(lambda: [d.update(b) for b in batches])()
    sd = SortedDict(d)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID")

    def load_sqlite() -> None:
        with db:
            for batch in batches:
                db.executemany("INSERT INTO t VALUES (?, ?)", batch)

    t_sqlite_load = _timed(load_sqlite)()
    results: list[Result] = []
    extra_rows = {"rows": rows, "key_bytes": KEY_BYTES, "value_bytes": VALUE_BYTES}

    def rate(name: str, value: float, baseline: float, baseline_name: str, unit: str,
             target: str | None = None, meets: bool | None = None) -> None:
        results.append(Result(name, value, unit, better="higher", baseline=baseline,
                              baseline_name=baseline_name, target=target, meets_target=meets,
                              extra=extra_rows))

    def cost(name: str, value: float, baseline: float, baseline_name: str, unit: str,
             target: str | None = None, meets: bool | None = None) -> None:
        results.append(Result(name, value, unit, better="lower", baseline=baseline,
                              baseline_name=baseline_name, target=target, meets_target=meets,
                              extra=extra_rows))

    rate("storage.apply", rows / t_store_load, rows / t_sqlite_load, "sqlite3 executemany",
         "rows/s")
    rate("storage.apply.vs_dict", rows / t_store_load, rows / t_dict_load, "dict.update",
         "rows/s")

    # ---- batched point gets -----------------------------------------------------------------
    probe = keys[:]
    rng.shuffle(probe)
    probe_batches = [probe[b:b + BATCH] for b in range(0, rows, BATCH)]
    get_many = store.get_many
    dget = d.get
    in_sql = f"SELECT k, v FROM t WHERE k IN ({','.join('?' * BATCH)})"

    def store_batches() -> None:
        for b in probe_batches:
            get_many(b, ts)

    def dict_batches() -> None:
        for b in probe_batches:
            [dget(k) for k in b]  # noqa: B018 - the work being timed

    def sqlite_batches() -> None:
        for b in probe_batches:
            found = dict(db.execute(in_sql, b).fetchall())
            [found.get(k) for k in b]  # noqa: B018 - answers in request order, as get_many

    assert get_many(probe_batches[0], ts) == [d[k] for k in probe_batches[0]]
    kps = rows / _best(_timed(store_batches), repeats)
    kps_dict = rows / _best(_timed(dict_batches), repeats)
    kps_sqlite = rows / _best(_timed(sqlite_batches), repeats)
    rate("storage.get_many", kps, kps_dict, "dict.get comprehension", "keys/s",
         ">= 2,000,000 keys/s", kps >= 2_000_000)
    rate("storage.get_many.vs_sqlite", kps, kps_sqlite, "sqlite3 WHERE k IN (1000 keys)",
         "keys/s")

    # ---- single get -------------------------------------------------------------------------
    single = probe[: min(rows, 200_000)]
    get = store.get
    select = "SELECT v FROM t WHERE k = ?"
    execute = db.execute

    def store_single() -> None:
        for k in single:
            get(k, ts)

    def dict_single() -> None:
        for k in single:
            dget(k)

    def sqlite_single() -> None:
        for k in single:
            execute(select, (k,)).fetchone()

    ns = _best(_timed(store_single), repeats) / len(single) * 1e9
    ns_dict = _best(_timed(dict_single), repeats) / len(single) * 1e9
    ns_sqlite = _best(_timed(sqlite_single), repeats) / len(single) * 1e9
    cost("storage.get", ns, ns_dict, "dict.get", "ns/get", "<= 1000 ns", ns <= 1000)
    cost("storage.get.vs_sqlite", ns, ns_sqlite, "sqlite3 SELECT by primary key", "ns/get")

    # ---- range scans into tuples ------------------------------------------------------------
    scan = store.scan
    page_sql = f"SELECT k, v FROM t WHERE k > ? ORDER BY k LIMIT {BATCH}"
    page_rev_sql = f"SELECT k, v FROM t WHERE k < ? ORDER BY k DESC LIMIT {BATCH}"

    def store_scan(reverse: bool) -> Callable[[], object]:
        def go() -> int:
            n = 0
            lo, hi = b"", b""
            while True:
                got, resume = scan(lo, hi, ts, BATCH, reverse)
                n += len(got)
                if resume is None:
                    return n
                if reverse:
                    hi = resume
                else:
                    lo = resume

        return go

    def sorted_scan(reverse: bool) -> Callable[[], object]:
        def go() -> int:
            n = 0
            it = sd.irange(reverse=reverse)
            while True:
                page = [(k, sd[k]) for k in islice(it, BATCH)]
                n += len(page)
                if len(page) < BATCH:
                    return n

        return go

    def sqlite_scan(reverse: bool) -> Callable[[], object]:
        def go() -> int:
            n = 0
            last = b"\xff" * 17 if reverse else b""
            while True:
                page = db.execute(page_rev_sql if reverse else page_sql, (last,)).fetchall()
                n += len(page)
                if len(page) < BATCH:
                    return n
                last = page[-1][0]

        return go

    assert store_scan(False)() == rows == sorted_scan(False)() == sqlite_scan(False)()
    rps_sorted_fwd = 0.0
    for reverse, suffix in ((False, ""), (True, ".reverse")):
        rps = rows / _best(_timed(store_scan(reverse)), repeats)
        rps_sorted = rows / _best(_timed(sorted_scan(reverse)), repeats)
        if not reverse:
            rps_sorted_fwd = rps_sorted
        rps_sqlite = rows / _best(_timed(sqlite_scan(reverse)), repeats)
        rate(f"storage.scan{suffix}", rps, rps_sorted, "SortedDict.irange into tuples",
             "rows/s", ">= 3,000,000 rows/s", rps >= 3_000_000)
        rate(f"storage.scan{suffix}.vs_sqlite", rps, rps_sqlite,
             "sqlite3 ORDER BY k LIMIT 1000 pages", "rows/s")

    # ---- memory per row ---------------------------------------------------------------------
    stats = store.stats()
    per_row = stats.allocated_bytes / rows
    dict_bytes = sys.getsizeof(d) + sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in pairs)
    page_count = db.execute("PRAGMA page_count").fetchone()[0]
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    raw = KEY_BYTES + VALUE_BYTES
    mem_extra = {**extra_rows, "allocated_bytes": stats.allocated_bytes,
                 "arena_used_bytes": stats.arena_used_bytes, "index_bytes": stats.index_bytes}
    results.append(Result("storage.memory_per_row", per_row / raw, "x raw bytes",
                          baseline=dict_bytes / rows / raw, baseline_name="dict of bytes objects",
                          target="<= 2.0x raw", meets_target=per_row / raw <= 2.0,
                          extra=mem_extra))
    results.append(Result("storage.memory_per_row.vs_sqlite", per_row / raw, "x raw bytes",
                          baseline=page_count * page_size / rows / raw,
                          baseline_name="sqlite3 in-memory pages", extra=mem_extra))

    # After many versions of every row, GC brings memory back to one version per row.
    for step, batch in enumerate(batches[: max(1, len(batches) // 4)], start=ts + 1):
        store.apply(step, batch)
    store.advance_watermark(ts + len(batches))
    before = store.stats().allocated_bytes
    start = time.perf_counter()
    gc = store.gc(store.watermark)
    gc_s = time.perf_counter() - start
    after = store.stats()
    ts = store.watermark
    rps_compacted = rows / _best(_timed(store_scan(False)), repeats)
    results.append(Result("storage.scan.after_gc", rps_compacted, "rows/s", better="higher",
                          baseline=rps_sorted_fwd, baseline_name="SortedDict.irange into tuples",
                          extra={**extra_rows, "note": "nodes laid out in key order by the GC"}))
    results.append(Result("storage.gc_rebuild", after.versions / gc_s, "versions/s",
                          better="higher",
                          extra={**extra_rows, "allocated_bytes_before": before,
                                 "allocated_bytes_after": after.allocated_bytes,
                                 "versions_dropped": gc.versions_dropped,
                                 "bytes_per_row_after": after.allocated_bytes / after.keys}))
    db.close()
    results.extend(_decoded_scan(rows, repeats))
    return results


def _decoded_scan(rows: int, repeats: int) -> list[Result]:
    """A table scan decoded into column tuples, against sqlite3 returning the same columns."""
    key_layout = KeyLayout(1, [key_column("int8")])
    row_layout = RowLayout(["int4", "text", "float8", "timestamptz"])
    base = datetime(2024, 1, 1, tzinfo=timezone.utc)
    data = [(i, i % 1000, f"name-{i:08d}-" + "x" * 40, i * 0.5, base + timedelta(seconds=i))
            for i in range(rows)]
    keys = key_layout.encode_many([(r[0],) for r in data])
    values = row_layout.encode_many([r[1:] for r in data])
    store = MvccStore()
    for b in range(0, rows, BATCH):
        store.apply(1 + b // BATCH, list(zip(keys[b:b + BATCH], values[b:b + BATCH],
                                             strict=True)))
    ts = rows // BATCH + 1
    store.advance_watermark(ts)
    lo_all, hi_all = key_layout.prefix_bounds()
    scan_decoded, decode_keys = row_layout.scan_decoded, key_layout.decode_many

    def store_scan(with_keys: bool) -> Callable[[], float]:
        def go() -> int:
            n = 0
            lo = lo_all
            while True:
                decoded, keys, resume = scan_decoded(store, lo, hi_all, ts, BATCH, False,
                                                     with_keys)
                if keys is not None:
                    decode_keys(keys)
                n += len(decoded)
                if resume is None:
                    return n
                lo = resume

        return _timed(go)

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c REAL, d TEXT)")
    with db:
        db.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                       [(r[0], r[1], r[2], r[3], r[4].isoformat()) for r in data])
    page_sql = f"SELECT id, a, b, c, d FROM t WHERE id > ? ORDER BY id LIMIT {BATCH}"

    def sqlite_scan() -> int:
        n, last = 0, -1
        while True:
            page = db.execute(page_sql, (last,)).fetchall()
            n += len(page)
            if len(page) < BATCH:
                return n
            last = page[-1][0]

    assert sqlite_scan() == rows
    rps_values = rows / _best(store_scan(False), repeats)
    rps_both = rows / _best(store_scan(True), repeats)
    rps_sqlite = rows / _best(_timed(sqlite_scan), repeats)
    db.close()
    extra = {"rows": rows, "columns": "int8 key; int4, text(54), float8, timestamptz",
             "row_bytes": sum(map(len, values)) / rows}
    return [
        Result("storage.scan.decoded", rps_values, "rows/s", better="higher",
               baseline=rps_sqlite, baseline_name="sqlite3 ORDER BY id LIMIT 1000 pages",
               target=">= 3,000,000 rows/s", meets_target=rps_values >= 3_000_000, extra=extra),
        Result("storage.scan.decoded_with_keys", rps_both, "rows/s", better="higher",
               baseline=rps_sqlite, baseline_name="sqlite3 ORDER BY id LIMIT 1000 pages",
               extra=extra),
    ]
