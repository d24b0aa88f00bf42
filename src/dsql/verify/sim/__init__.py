"""Deterministic simulation of the commit path (docs/simulation.md).

The real adjudicator, sequencer, journal, crossbar and MvccStore, wired as src/dsql/node does,
driven by one seeded scheduler with simulated time, network and disk; faults (crashes losing
unsynced writes, torn records, message delay, loss and duplication, clock skew and steps) at
seeded moments; after each run the Elle checker, durability, storage-at-τ and bank checks.

- scheduler.py  simulated time, the one random stream, the trace digest
- network.py    client <-> node messages with seeded delay, loss, duplication
- disk.py       what a simulated fdatasync made durable; crash truncation, torn records
- simnode.py    the node: real components, the commit path as simulated steps
- client.py     list-append and bank clients, recording a dsql.verify history
- oracle.py     what the run knows for certain; checks.py the checks
- harness.py    run_seed, run_seeds, run_quick; __main__.py the command line
- bugs.py, faults.py  injectable bugs and fault knobs

    python -m dsql.verify.sim --seed 7 [--bug skip-key] [--seeds 20]
"""

from __future__ import annotations

from dsql.verify.sim.bugs import Bug
from dsql.verify.sim.faults import FaultConfig
from dsql.verify.sim.harness import (
    SeedResult,
    SimConfig,
    run_quick,
    run_seed,
    run_seeds,
    summarize,
)

__all__ = ["Bug", "FaultConfig", "SeedResult", "SimConfig", "run_quick", "run_seed",
           "run_seeds", "summarize"]
