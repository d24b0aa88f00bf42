"""dsql's own engine under the list-append workload, checked for snapshot isolation.

Goal: histories from concurrent dsql sessions are snapshot-isolated with the real-time
guarantee (a transaction sees every transaction acknowledged before it began), and write skew
(G2-item), which snapshot isolation allows, does occur. Method: four client threads, each with
its own dsql.connect session on one data directory, run short read/append transactions
(retrying 40001 as failed ops); the Elle-style checker classifies the history.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import dsql
from dsql.verify.elle import check
from dsql.verify.workload import run_list_append


@pytest.mark.parametrize("seed", [11, 12])
def test_concurrent_sessions_are_strong_snapshot_isolated(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "db"
    run = run_list_append(lambda: dsql.connect(path), clients=4, txns=200, keys=4, seed=seed)
    assert run.errors == []
    result = check(run.history)
    assert result.valid, result.report()
    assert result.strong_valid, result.report()
    assert "G2-item" in result.types, "write skew must be possible under snapshot isolation"
    committed = sum(1 for op in run.history if op.type == "ok")
    assert committed > 100
