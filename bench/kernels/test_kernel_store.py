"""The MVCC store: goal, cost of batched point gets, single gets, scans and applies.

Method: 10,000 rows of 16-byte keys and 84-byte values applied in batches of 1,000; then
pytest-benchmark times get_many over 1,000 keys, one get, a 1,000-row scan and the apply of a
fresh 1,000-row batch, each checked against the loaded data.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from dsql.storage.store import MvccStore

VALUE = b"v" * 84


@pytest.fixture
def loaded(keys_16: list[bytes]) -> tuple[MvccStore, list[bytes]]:
    store = MvccStore()
    for ts, lo in enumerate(range(0, len(keys_16), 1000), start=1):
        store.apply(ts, [(k, VALUE) for k in keys_16[lo:lo + 1000]])
    store.advance_watermark(len(keys_16) // 1000 + 1)
    return store, keys_16


def test_get_many_1000(benchmark: Any, loaded: tuple[MvccStore, list[bytes]]) -> None:
    store, keys = loaded
    probe = keys[:1000]
    got = benchmark(store.get_many, probe, store.watermark)
    assert got == [VALUE] * 1000


def test_get_one(benchmark: Any, loaded: tuple[MvccStore, list[bytes]]) -> None:
    store, keys = loaded
    assert benchmark(store.get, keys[17], store.watermark) == VALUE


def test_scan_1000(benchmark: Any, loaded: tuple[MvccStore, list[bytes]]) -> None:
    store, keys = loaded
    rows, resume = benchmark(store.scan, b"", b"\xff" * 17, store.watermark, 1000)
    assert len(rows) == 1000 and resume is not None
    assert [k for k, _ in rows] == sorted(keys)[:1000]


def test_apply_1000(benchmark: Any, loaded: tuple[MvccStore, list[bytes]]) -> None:
    store, keys = loaded
    ts = itertools.count(store.watermark + 1)
    writes = [(k, b"w" * 84) for k in keys[:1000]]
    benchmark(lambda: store.apply(next(ts), writes))
    assert store.get(keys[0], store.watermark) is not None
