"""Broken engines must be caught, with the right class of anomaly.

Goal: prove the checker can fail, and that it names the bug correctly. Method: run the
simulated engine (dsql.verify.sim_engine) with each injected bug over a few hundred seeds, at
sizes larger than the brute-force cross-check can handle, and require per bug

- lost updates (no conflict check)    -> lost-update and G-single; never G1a/G1b/internal;
- one key skipped by the conflict check -> the same, and lost updates only on that key (0);
- dirty reads (read uncommitted)       -> G1a (read of an aborted append) and G1b;
- stale snapshots                      -> always valid SI, but realtime violations (not strong);
- writes in place, aborts not undone   -> G0 (interleaved appends) and G1a;

and from the correct engine: nothing but G2-item, which must appear.
"""

from __future__ import annotations

from collections import Counter

import pytest

from dsql.verify.anomalies import (
    G0,
    G1A,
    G1B,
    G2_ITEM,
    G_SINGLE,
    INCOMPATIBLE_ORDER,
    INTERNAL,
    LOST_UPDATE,
    REALTIME,
)
from dsql.verify.elle import check
from dsql.verify.sim_engine import Flaw, simulate

SEEDS = range(120)
NO_DIRTY = {G1A, G1B, INTERNAL, "garbage-read", "duplicate-elements"}

# flaw -> (classes that must each appear in some run, classes that must never appear)
EXPECT = {
    Flaw.NONE: ({G2_ITEM}, NO_DIRTY | {G0, "G1c", G_SINGLE, "G-nonadjacent", LOST_UPDATE,
                                       INCOMPATIBLE_ORDER, REALTIME}),
    Flaw.LOST_UPDATE: ({LOST_UPDATE, G_SINGLE, INCOMPATIBLE_ORDER}, NO_DIRTY),
    Flaw.SKIP_KEY_CHECK: ({LOST_UPDATE, G_SINGLE}, NO_DIRTY),
    Flaw.DIRTY_READ: ({G1A, G1B}, set()),
    Flaw.STALE_SNAPSHOT: ({REALTIME}, NO_DIRTY | {G0, "G1c", G_SINGLE, "G-nonadjacent",
                                                  LOST_UPDATE, INCOMPATIBLE_ORDER}),
    Flaw.WRITES_IN_PLACE: ({G0, G1A}, set()),
}


@pytest.mark.parametrize("flaw", list(Flaw), ids=[f.value for f in Flaw])
def test_engine(flaw: Flaw) -> None:
    must, never = EXPECT[flaw]
    seen: Counter[str] = Counter()
    flagged = 0
    for seed in SEEDS:
        ops = simulate(flaw, seed=seed, clients=4, txns=12, keys=3, mops_max=4,
                       abort_probability=0.1)
        result = check(ops)
        seen.update(result.types)
        assert not (result.types & never), (seed, result.report())
        flagged += not result.strong_valid
        if flaw is Flaw.STALE_SNAPSHOT:
            assert result.valid, result.report()  # old snapshots are still snapshots
        if flaw is Flaw.SKIP_KEY_CHECK:
            for a in result.of_type(LOST_UPDATE) + result.of_type(INCOMPATIBLE_ORDER):
                assert a.description.startswith("key 0:"), a.description
    assert must <= set(seen), (must - set(seen), seen)
    if flaw is Flaw.NONE:
        assert flagged == 0
    else:
        assert flagged >= len(SEEDS) // 10, (flagged, seen)
