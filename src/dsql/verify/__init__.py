"""Verification: machine checks of dsql's isolation and durability guarantees.

- history.py   Jepsen-style list-append histories (JSON Lines), paired into transactions
- versions.py  version orders and read views inferred from committed reads
- reads.py     aborted reads (G1a), intermediate reads (G1b), lost updates
- graph.py     the ww / wr / rw dependency graph
- cycles.py    SCCs, cycle witnesses and their classes (G0 .. G2-item)
- realtime.py  real-time edges and stale reads (strong snapshot isolation)
- elle.py      the checker (`check`) and `python -m dsql.verify.elle FILE.jsonl`
- brute.py     a brute-force reference checker for tiny histories
- sim_engine.py  a simulated SI engine, with switchable bugs, that produces histories
- workload.py  the list-append workload over any PEP 249 connection
- invariants/  ring, bank, counter and ledger workloads over SQL, each with its checker
- serveproc.py psycopg connections to `dsql serve` children (dsql.server.child: start,
  SIGKILL, restart) for the checks below
- crashloop.py `dsql serve` killed with SIGKILL under load, restarted, everything acked checked
- suite.py     the checks `dsql verify` runs, one summary row each; cli.py the command
- promela/     a Promela model of the commit protocol, checked with spin (docs/promela-model.md)

docs/verification.md lists each guarantee, the check that covers it, and the latest figures.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CheckResult", "HistoryError", "Op", "check", "load_history"]


def __getattr__(name: str) -> Any:
    # Lazy, so that `python -m dsql.verify.elle` does not import elle twice.
    if name in ("CheckResult", "check"):
        from dsql.verify import elle
        return getattr(elle, name)
    if name in ("HistoryError", "Op", "load_history"):
        from dsql.verify import history
        return getattr(history, name)
    raise AttributeError(f"module 'dsql.verify' has no attribute {name!r}")
