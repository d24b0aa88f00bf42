"""The adjudicator: goal, cost of deciding a batch of 64 four-key transactions.

Method: pytest-benchmark times Adjudicator.adjudicate_flat over batches of fresh unique keys
(every transaction commits) and over keys from a 100-key hot set (most conflict), and checks
the outcome counts so a broken kernel cannot be timed.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

from dsql import clock as dclock
from dsql.adjudicator import Adjudicator

BATCH = 64
KEYS = 4


def _batch(ids: itertools.count, keys: list[bytes], start_ts: int) -> tuple[Any, ...]:
    txn_ids = [next(ids) for _ in range(BATCH)]
    return (txn_ids, [start_ts] * BATCH, [KEYS] * BATCH, keys, bytes([2]) * (BATCH * KEYS))


def test_adjudicate_flat_unique(benchmark: Any) -> None:
    adj = Adjudicator(dclock.Clock.open(dclock.ClockSettings(source="system")))
    ids = itertools.count(1)
    start = adj.heartbeat()

    def one() -> Any:
        buf = os.urandom(16 * BATCH * KEYS)
        keys = [buf[i:i + 16] for i in range(0, len(buf), 16)]
        return adj.adjudicate_flat(*_batch(ids, keys, start))
    res = benchmark(one)
    assert list(res.outcomes).count(0) == BATCH


def test_adjudicate_flat_hot(benchmark: Any) -> None:
    adj = Adjudicator(dclock.Clock.open(dclock.ClockSettings(source="system")))
    ids = itertools.count(1)
    hot = [b"hot-%012d" % i for i in range(100)]
    keys = [hot[(i * 37) % 100] for i in range(BATCH * KEYS)]
    start = adj.heartbeat()
    res = benchmark(lambda: adj.adjudicate_flat(*_batch(ids, keys, start)))
    assert len(res.outcomes) == BATCH
