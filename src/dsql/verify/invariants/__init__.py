"""Invariant workloads over SQL, each with a checker that can fail.

- ring.py     N rows whose links transactions rotate; must stay one cycle of N
- bank.py     transfers between accounts; total constant, no negative balance
- counter.py  increments with retries; acked <= final value <= acked + maybe
- ledger.py   unique-id inserts; every acknowledged id present (the crash loop's probe)
- base.py     the Workload shape and `run_invariant` (many client threads, snapshot checks)
- common.py   one transaction attempt and its outcome (ok / fail / unknown), a reconnecting client

Example::

    run = run_invariant(Bank(accounts=8), lambda: dsql.connect(path), clients=4, ops=200)
    assert run.ok, run.problems
"""

from __future__ import annotations

from dsql.verify.invariants.bank import Bank, check_bank
from dsql.verify.invariants.base import InvariantRun, Workload, run_invariant
from dsql.verify.invariants.counter import Bounds, Counter, check_counter
from dsql.verify.invariants.ledger import Ledger, LedgerLog, check_ledger
from dsql.verify.invariants.ring import Ring, check_ring

__all__ = ["Bank", "Bounds", "Counter", "InvariantRun", "Ledger", "LedgerLog", "Ring",
           "Workload", "check_bank", "check_counter", "check_ledger", "check_ring",
           "run_invariant"]
