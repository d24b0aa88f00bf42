"""Adjudicator throughput: batches of 64 transactions x 4 written keys (16-byte keys).

Measured in one run, on one core:
  - the C++ kernel alone (batches built in C++, no Python crossing),
  - the Python entry points: the flat batch call (one crossing per batch) and the structured
    one ([(txn_id, start_ts, [(key, kind), ...]), ...]),
  - a contended variant (keys from a small hot set, so some transactions conflict),
and the plain-dict reference model (dsql.adjudicator_reference) on the same batches as the
baseline; ratios are kernel / model. The table is first filled to its key bound so that the
measured batches pay for evictions, as a long-running adjudicator does. Each figure is the best
of REPEATS consecutive segments of the run (the machines are shared and noisy); the mean over
the segments is in `extra`.
"""

from __future__ import annotations

import os
import random
import time

from dsql.bench.harness import Result

from dsql import clock as dclock
from dsql._core import _kernels
from dsql.adjudicator_reference import ModelClock, ReferenceAdjudicator

DESCRIPTION = "adjudicator transactions/s, batches of 64 txns x 4 keys, against the dict model"

# For context only, not measured here: FoundationDB's published resolver throughput, about
# 280,000 transactions per second per core.
FDB_PUBLISHED_TXN_PER_S_PER_CORE = 280_000

BATCH_TXNS = 64
TXN_KEYS = 4
KEY_BYTES = 16
TARGET_TXN_PER_S = 1_000_000
REPEATS = 3

FlatBatch = tuple[list[int], list[int], list[bytes], bytes]


def _unique_keys(n: int) -> list[bytes]:
    buf = os.urandom(KEY_BYTES * n)
    return [buf[i:i + KEY_BYTES] for i in range(0, len(buf), KEY_BYTES)]


def _hot_keys(n: int, space: int, rng: random.Random) -> list[bytes]:
    return [b"hot-%012d" % rng.randrange(space) for _ in range(n)]


def _kinds(n: int) -> bytes:
    return bytes(0 if i % 8 == 7 else 2 for i in range(n))  # mostly full, some keyshare


def _flat_batches(keys: list[bytes], first_txn: int) -> list[FlatBatch]:
    per = BATCH_TXNS * TXN_KEYS
    kinds = _kinds(per)
    out = []
    for b in range(len(keys) // per):
        ids = list(range(first_txn + b * BATCH_TXNS, first_txn + (b + 1) * BATCH_TXNS))
        out.append((ids, [TXN_KEYS] * BATCH_TXNS, keys[b * per:(b + 1) * per], kinds))
    return out


def _structured(batch: FlatBatch, start: int) -> list[tuple[int, int, list[tuple[bytes, int]]]]:
    ids, _, keys, kinds = batch
    return [(txn, start, [(keys[i * TXN_KEYS + j], kinds[i * TXN_KEYS + j])
                          for j in range(TXN_KEYS)]) for i, txn in enumerate(ids)]


def _segments(items: list, n: int) -> list[list]:
    size = max(1, len(items) // n)
    return [items[i * size:(i + 1) * size] for i in range(n)]


def _best_and_mean(rates: list[float]) -> tuple[float, float]:
    return max(rates), sum(rates) / len(rates)


def _run_flat(core: object, hybrid: object, batches: list[FlatBatch]) -> tuple[float, float]:
    """(txn/s, committed fraction); each batch starts at the newest timestamp."""
    committed = 0
    t0 = time.perf_counter_ns()
    for ids, counts, keys, kinds in batches:
        start = hybrid.last  # type: ignore[attr-defined]
        outcomes, _, _ = core.adjudicate_flat(  # type: ignore[attr-defined]
            ids, [start] * BATCH_TXNS, counts, keys, kinds)
        committed += outcomes.count(0)
    elapsed = time.perf_counter_ns() - t0
    n = len(batches) * BATCH_TXNS
    return n * 1e9 / elapsed, committed / n


def _run_structured(core: object, hybrid: object, batches: list[FlatBatch]) -> float:
    prepared = [_structured(b, 0) for b in batches]
    t0 = time.perf_counter_ns()
    for txns in prepared:
        start = hybrid.last  # type: ignore[attr-defined]
        core.adjudicate_batch([(t, start, w) for t, _, w in txns])  # type: ignore[attr-defined]
    elapsed = time.perf_counter_ns() - t0
    return len(batches) * BATCH_TXNS * 1e9 / elapsed


def _run_model(model: ReferenceAdjudicator, batches: list[FlatBatch]) -> tuple[float, float]:
    prepared = [_structured(b, 0) for b in batches]
    committed = 0
    t0 = time.perf_counter_ns()
    for txns in prepared:
        start = model.clock.last
        results = model.adjudicate_batch([(t, start, w) for t, _, w in txns])
        committed += sum(1 for r in results if r[0] == 0)
    elapsed = time.perf_counter_ns() - t0
    n = len(batches) * BATCH_TXNS
    return n * 1e9 / elapsed, committed / n


def run(quick: bool) -> list[Result]:
    max_keys = 250_000 if quick else 1_000_000
    measured_txns = 192_000 if quick else 1_152_000
    model_txns = 19_200 if quick else 57_600
    hot_space = 20_000
    rng = random.Random(1)
    system = dclock.Clock.open(dclock.ClockSettings(source="system"))

    def fresh() -> tuple[object, object]:
        hybrid = _kernels.clock.HybridClock(system.source)
        hybrid.next_above(0)  # so that hybrid.last is a real time from the start
        return _kernels.adjudicator.Adjudicator(hybrid, max_keys=max_keys), hybrid

    def fill(core: object) -> None:
        keys = os.urandom(KEY_BYTES * max_keys)
        _kernels.adjudicator._time_kernel_batches(core, keys, KEY_BYTES, BATCH_TXNS, TXN_KEYS)

    # The kernel alone.
    core, _ = fresh()
    fill(core)
    rates, txns, committed = [], 0, 0
    for _ in range(REPEATS):
        ns, n, c = _kernels.adjudicator._time_kernel_batches(
            core, os.urandom(KEY_BYTES * measured_txns // REPEATS * TXN_KEYS), KEY_BYTES,
            BATCH_TXNS, TXN_KEYS)
        rates.append(n * 1e9 / ns)
        txns, committed = txns + n, committed + c
    kernel_tps, kernel_mean = _best_and_mean(rates)
    evictions = core.stats()["evicted_by_memory"]

    # From Python: flat and structured batches over fresh unique keys.
    core, hybrid = fresh()
    fill(core)
    flat = [_run_flat(core, hybrid, seg) for seg in _segments(
        _flat_batches(_unique_keys(measured_txns * TXN_KEYS), 1), REPEATS)]
    flat_tps, flat_mean = _best_and_mean([r for r, _ in flat])
    flat_committed = min(c for _, c in flat)
    core, hybrid = fresh()
    fill(core)
    structured_tps, structured_mean = _best_and_mean([
        _run_structured(core, hybrid, seg) for seg in _segments(
            _flat_batches(_unique_keys(measured_txns // 2 * TXN_KEYS), 1), REPEATS)])

    # Contended: keys from a hot set; transactions in a batch share one start.
    core, hybrid = fresh()
    hot = [_run_flat(core, hybrid, seg) for seg in _segments(
        _flat_batches(_hot_keys(measured_txns * TXN_KEYS, hot_space, rng), 1), REPEATS)]
    hot_tps, hot_mean = _best_and_mean([r for r, _ in hot])
    hot_committed = sum(c for _, c in hot) / len(hot)

    # The reference model on the same shapes (fewer batches: it is slower).
    model = ReferenceAdjudicator(ModelClock(follow_real_time=True), max_keys=max_keys)
    model.clock.next()
    _run_model(model, _flat_batches(_unique_keys(max_keys), 1))  # fill, as for the kernel
    model_tps, _ = _best_and_mean([r for r, _ in (
        _run_model(model, seg) for seg in _segments(
            _flat_batches(_unique_keys(model_txns * TXN_KEYS), 1), REPEATS))])
    hot_model = ReferenceAdjudicator(ModelClock(follow_real_time=True), max_keys=max_keys)
    hot_model.clock.next()
    model_hot = [_run_model(hot_model, seg) for seg in _segments(
        _flat_batches(_hot_keys(model_txns * TXN_KEYS, hot_space, rng), 1), REPEATS)]
    model_hot_tps, _ = _best_and_mean([r for r, _ in model_hot])
    model_hot_committed = sum(c for _, c in model_hot) / len(model_hot)

    context = {
        "foundationdb_published_txn_per_s_per_core": FDB_PUBLISHED_TXN_PER_S_PER_CORE,
        "foundationdb_note": "published figure for context, not measured in this run",
        "batch": f"{BATCH_TXNS} txns x {TXN_KEYS} keys of {KEY_BYTES} bytes",
        "max_keys": max_keys,
        "clock": "system",
    }
    model_name = "plain-dict reference model (Python)"
    return [
        Result("adjudicator.batch64x4.kernel", kernel_tps, "txn/s", better="higher",
               baseline=model_tps, baseline_name=model_name,
               target=f">= {TARGET_TXN_PER_S:,} txn/s",
               meets_target=kernel_tps >= TARGET_TXN_PER_S,
               extra={**context, "mean_txn_per_s": kernel_mean,
                      "committed_fraction": committed / txns,
                      "evicted_keys": evictions,
                      "vs_foundationdb_published": kernel_tps / FDB_PUBLISHED_TXN_PER_S_PER_CORE}),
        Result("adjudicator.batch64x4.python_flat", flat_tps, "txn/s", better="higher",
               baseline=model_tps, baseline_name=model_name,
               target=f">= {TARGET_TXN_PER_S:,} txn/s",
               meets_target=flat_tps >= TARGET_TXN_PER_S,
               extra={"mean_txn_per_s": flat_mean, "committed_fraction": flat_committed,
                      "vs_foundationdb_published": flat_tps / FDB_PUBLISHED_TXN_PER_S_PER_CORE}),
        Result("adjudicator.batch64x4.python_structured", structured_tps, "txn/s",
               better="higher", baseline=model_tps, baseline_name=model_name,
               extra={"mean_txn_per_s": structured_mean}),
        Result("adjudicator.batch64x4.contended", hot_tps, "txn/s", better="higher",
               baseline=model_hot_tps, baseline_name=model_name,
               extra={"mean_txn_per_s": hot_mean, "hot_keys": hot_space,
                      "committed_fraction": hot_committed,
                      "model_committed_fraction": model_hot_committed}),
    ]
