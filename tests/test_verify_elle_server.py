"""The list-append workload through `dsql serve`, judged by the Elle-style checker.

Goal: histories made by many concurrent psycopg clients over 127.0.0.1 against a real
`dsql serve` process are snapshot-isolated with the real-time guarantee (no class but
G2-item), and write skew (G2-item) does appear. Method: a `dsql serve` child on a temporary
data directory; 8 client threads, 4 keys, 30% of transactions shaped for write skew (read two
keys, append to one); two seeds.
"""

from __future__ import annotations

from pathlib import Path

from dsql.server.child import ServeProcess
from dsql.verify.anomalies import SI_FORBIDDEN
from dsql.verify.elle import check
from dsql.verify.serveproc import psycopg_connector
from dsql.verify.workload import run_list_append


def test_dsql_serve_is_strong_snapshot_isolated(tmp_path: Path) -> None:
    seen: set[str] = set()
    with ServeProcess(tmp_path / "db") as srv:
        for seed in (21, 22):
            run = run_list_append(psycopg_connector(srv), clients=8, txns=200, keys=4,
                                  seed=seed, skew_fraction=0.3)
            assert run.errors == [], run.errors
            result = check(run.history)
            assert not (result.types & SI_FORBIDDEN), result.report()
            assert result.valid and result.strong_valid, result.report()
            assert result.committed > 100
            seen |= result.types
    assert "G2-item" in seen, "write skew must show up under snapshot isolation"


def test_skew_shaped_templates() -> None:
    import random

    from dsql.verify.workload import _template

    rng = random.Random(1)
    shapes = [_template(rng, 4, 4, 0.5, 1.0) for _ in range(50)]
    for t in shapes:
        (f1, k1), (f2, k2), (f3, k3) = t
        assert (f1, f2, f3) == ("r", "r", "append") and k1 != k2 and k3 in (k1, k2)
