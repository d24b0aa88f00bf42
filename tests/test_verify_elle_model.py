"""The fast checker against brute-force references, on random small histories.

Goal: the graph-and-cycles checker gives the verdict a direct search of SI executions gives,
and its cycle search finds the classes an exhaustive cycle enumeration finds. Method:
hypothesis draws small histories from the simulated engine (dsql.verify.sim_engine) in its
correct form and with each bug (lost updates, a key skipped by the conflict check, dirty
reads, stale snapshots, writes in place), with aborts and indeterminate commits; then

1. SI verdict vs brute.si_possible (commit orders x snapshots, no inference), and the strong
   verdict vs si_possible(realtime=True). When each key has at most one committed transaction
   whose appends no read shows, the version order is fully determined and the two must agree
   exactly; otherwise the order among unread appends is unknown and the checker may only err
   towards "valid" (it never flags a history some SI execution explains).
2. The cycle classes found vs brute.cycle_classes (every simple cycle, every kind choice) on
   the same graph. The one allowed gap: a G-nonadjacent cycle may go unreported in a
   component where a worse cycle (G0, G1c, G-single) was reported.
3. Real-time cycles vs enumeration over the graph plus rt edges, on SI-valid histories.
"""

from __future__ import annotations

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from dsql.verify import brute
from dsql.verify.anomalies import CYCLE_CLASSES, G0, G1C, G2_ITEM, G_NONADJACENT, G_SINGLE, REALTIME
from dsql.verify.elle import CheckResult, check
from dsql.verify.history import INFO, pair_transactions
from dsql.verify.realtime import add_realtime_edges
from dsql.verify.sim_engine import Flaw, simulate

histories = st.builds(
    dict,
    flaw=st.sampled_from(list(Flaw)),
    seed=st.integers(0, 2**32 - 1),
    clients=st.integers(2, 4),
    txns=st.integers(3, 7),
    keys=st.integers(1, 3),
    mops_max=st.integers(1, 4),
    abort_probability=st.sampled_from([0.0, 0.15]),
    info_probability=st.sampled_from([0.0, 0.1]),
    final_read=st.booleans(),
)


def determinate(result: CheckResult) -> bool:
    return all(len(ko.unread) <= 1 for ko in result.observations.orders.values())


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories)
def test_verdicts_match_brute_force(params: dict) -> None:
    ops = simulate(**params)
    txns = pair_transactions(ops)
    assume(sum(t.type == INFO for t in txns) <= brute.INFO_MAX)
    result = check(ops)
    si = brute.si_possible(txns)
    strong = brute.si_possible(txns, realtime=True)
    report = result.report()
    event(f"{params['flaw'].value}: si={si} strong={strong} determinate={determinate(result)}")
    assert si or not strong
    # Never a false alarm: what an SI execution explains is valid.
    assert not si or result.valid, report
    assert not strong or result.strong_valid, report
    if determinate(result):
        assert result.valid == si, report
        assert result.strong_valid == strong, report


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories)
def test_cycle_classes_match_enumeration(params: dict) -> None:
    ops = simulate(**params)
    result = check(ops)
    everything = brute.cycle_classes(result.graph)
    found = {a.type for a in result.anomalies if a.steps and a.type in CYCLE_CLASSES}
    assert found <= everything, (found, everything)
    missing = everything - found
    assert not missing or (missing == {G_NONADJACENT} and found & {G0, G1C, G_SINGLE}), (
        found, everything)
    if result.valid:
        g = result.graph.copy()
        add_realtime_edges(g, pair_transactions(ops))
        reported = any(a.type == REALTIME and a.steps for a in result.anomalies)
        assert reported == (REALTIME in brute.cycle_classes(g))
        assert result.strong_valid == (REALTIME not in brute.cycle_classes(g)
                                       and REALTIME not in result.types)


def test_correct_engine_is_valid_and_shows_write_skew() -> None:
    """200 seeded runs of the correct engine: all strong-SI valid, and G2-item (write skew)
    appears in some, so the checker neither over-reports nor hides what SI allows."""
    skew = 0
    for seed in range(200):
        ops = simulate(Flaw.NONE, seed=seed, clients=3, txns=6, keys=2, abort_probability=0.1)
        result = check(ops)
        assert result.valid and result.strong_valid, result.report()
        assert brute.si_possible(pair_transactions(ops), realtime=True)
        skew += G2_ITEM in result.types
    assert skew >= 5, skew
