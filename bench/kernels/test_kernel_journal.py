"""The journal: goal, cost of one durable append, and of one append without fdatasync.

Method: pytest-benchmark times Journal.append of a two-write record (a 100-byte row image and
an index entry) on a fresh journal in a temporary directory, with fdatasync durability (the
disk's flush dominates) and with unsafe-no-sync (the kernel's own cost), then checks the
records read back.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from dsql.journal import Journal

WRITES = [(b"\x01table\x00\x00\x00\x2a", b"r" * 100), (b"\x02index\x00name\x00\x2a", b"")]


@pytest.mark.parametrize("durability", ["fdatasync", "unsafe-no-sync"])
def test_append(benchmark: Any, bench_tmp: Path, durability: str) -> None:
    with Journal(bench_tmp / "j", durability=durability) as journal:  # type: ignore[arg-type]
        journal.wait_spare_ready(30.0)
        ts = itertools.count(1)
        lsn = benchmark(lambda: journal.append(next(ts), WRITES))
        assert lsn >= 1 and journal.wait_durable(lsn, 10.0)
        assert sum(1 for _ in journal.records_from(journal.first_lsn)) >= lsn - journal.first_lsn
