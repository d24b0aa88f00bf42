"""Deterministic simulation of the commit path (dsql.verify.sim, docs/simulation.md).

Goal: the simulation runs the real adjudicator, journal, crossbar and storage under seeded
faults; clean seeds pass every check, each injected bug is caught within a bounded number of
seeds (so the checks can fail), and a seed replays event for event.
Method: run a few seeds per fault profile and assert `ok`; run each Bug on seeds 0.. until a
failure (bound BUG_SEEDS_MAX) and assert that a checker (not only the node) reported it;
compare trace digests of repeated runs; unit-check the simulated disk and the scheduler; and
pin one finding (promises do not survive a crash) against the real Node.
"""

from __future__ import annotations

import json
import logging
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from dsql import clock as dclock
from dsql.adjudicator import Kind
from dsql.node.node import Node, NodeOptions
from dsql.verify.elle import check as elle_check
from dsql.verify.history import load_history
from dsql.verify.sim import Bug, FaultConfig, SimConfig, run_quick, run_seed, run_seeds
from dsql.verify.sim.__main__ import main
from dsql.verify.sim.disk import SimDisk
from dsql.verify.sim.faults import CLOCK_STEP, CRASH, MSG_DROP, MSG_DUP, TORN_RECORD
from dsql.verify.sim.scheduler import Scheduler

CLEAN_SEEDS = range(0, 10)
HEAVY_SEEDS = range(500, 504)
BUG_SEEDS_MAX = 10


@pytest.fixture(autouse=True)
def _quiet_components(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="dsql")


def _assert_ok(results: list) -> None:
    failed = [r for r in results if not r.ok]
    assert not failed, "\n".join(r.failure_message() for r in failed)


def test_clean_seeds_pass_with_default_faults() -> None:
    results = run_seeds(CLEAN_SEEDS)
    _assert_ok(results)
    faults: dict[str, int] = {}
    for r in results:
        assert r.committed > 50 and r.aborted > 0
        for kind, n in r.faults_injected.items():
            faults[kind] = faults.get(kind, 0) + n
    # The faults really happened (else passing proves little).
    for kind in (CRASH, TORN_RECORD, MSG_DROP, MSG_DUP, CLOCK_STEP):
        assert faults[kind] > 0, f"no {kind} injected in {len(results)} seeds"


def test_heavy_faults_pass() -> None:
    _assert_ok(run_seeds(HEAVY_SEEDS, config=SimConfig(profile="heavy")))


def test_no_faults_means_none_injected() -> None:
    r = run_seed(3, config=SimConfig(profile="none"))
    assert r.ok, r.failure_message()
    assert r.indeterminate == 0 and r.retroactive_reads == 0
    # Only the final crash of every run happens.
    assert {k: n for k, n in r.faults_injected.items() if n} == {CRASH: 1}


@pytest.mark.parametrize("bug", [b for b in Bug if b is not Bug.NONE])
def test_injected_bug_is_caught(bug: Bug) -> None:
    for seed in range(BUG_SEEDS_MAX):
        r = run_seed(seed, bug)
        # A finding of a checker, not only the node's own complaint (storage refusing an
        # apply below its watermark).
        found = [a for a in r.anomalies if not a.startswith("apply of commit")]
        if found:
            assert not r.ok
            assert f"--bug {bug.value}" in r.failure_message()
            return
    pytest.fail(f"{bug.value} was not caught in {BUG_SEEDS_MAX} seeds")


def test_same_seed_same_trace() -> None:
    for bug in (Bug.NONE, Bug.SKIP_KEY):
        a, b = run_seed(11, bug), run_seed(11, bug)
        assert a.trace_hash == b.trace_hash
        assert (a.transactions, a.committed, a.faults_injected, a.anomalies) == (
            b.transactions, b.committed, b.faults_injected, b.anomalies)
    assert run_seed(12).trace_hash != run_seed(11).trace_hash


def test_replay_in_another_process_gives_the_same_trace() -> None:
    # The replay command runs in a fresh process (another PYTHONHASHSEED, fresh kernels).
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    out = subprocess.run([sys.executable, "-m", "dsql.verify.sim", "--seed", "13", "--json"],
                         capture_output=True, text=True, env=env, timeout=120, check=True)
    assert json.loads(out.stdout)["trace_hashes"]["13"] == run_seed(13).trace_hash


def test_run_quick_summary() -> None:
    summary = run_quick(40, seeds=2)
    assert summary["seeds_run"] == 2 and summary["ok"] is True
    assert summary["anomalies"] == []
    for field in ("transactions", "committed", "aborted", "faults_injected"):
        assert field in summary
    assert summary["committed"] + summary["aborted"] <= summary["transactions"]


def test_cli_prints_replay_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--seed", "0", "--bug", "skip-key", "--history", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "replay: python -m dsql.verify.sim --seed 0 --bug skip-key" in out
    # The saved history is one the Elle checker reads, and finds invalid on its own.
    assert not elle_check(load_history(tmp_path / "seed-0.jsonl")).valid
    assert main(["--seed", "2"]) == 0


def test_disk_crash_keeps_synced_bytes_and_tears_the_rest(tmp_path: Path) -> None:
    seg = tmp_path / "journal-0000000000000001.seg"
    seg.write_bytes(b"a" * 100)
    disk = SimDisk(tmp_path)
    disk.sync()
    with seg.open("ab") as f:
        f.write(b"b" * 50)
    new = tmp_path / "journal-0000000000000002.seg"
    new.write_bytes(b"c" * 30)
    assert disk.unsynced_bytes() == 80
    report = disk.crash(random.Random(1), torn_p=0.0)
    assert seg.read_bytes() == b"a" * 100 and not new.exists()
    assert report.lost_bytes == 80 and not report.torn
    with seg.open("ab") as f:
        f.write(b"d" * 50)
    report = disk.crash(random.Random(2), torn_p=1.0)
    data = seg.read_bytes()
    assert report.torn and 100 < len(data) <= 150 and data[:100] == b"a" * 100
    assert report.lost_bytes + report.kept_unsynced_bytes == 50


def test_scheduler_orders_by_time_then_insertion() -> None:
    s = Scheduler(5)
    seen: list[str] = []
    s.after(10, "b", lambda: seen.append("b"))
    s.after(5, "a", lambda: seen.append("a"))
    s.after(10, "c", lambda: seen.append("c"))
    ticks: list[int] = []
    s.on_advance(ticks.append)
    assert s.run(7) == 1 and s.now_ns == 7
    s.run(20)
    assert seen == ["a", "b", "c"] and sum(ticks) == 20
    with pytest.raises(AssertionError):
        s.after(-1, "x", lambda: None)


def test_no_commit_lands_below_a_snapshot_served_before_a_crash(tmp_path: Path) -> None:
    # The real Node, no simulation: a snapshot at τ is made readable (promised), the process
    # dies, the clock steps back across the restart, and a new commit must still land above τ.
    source = dclock.SimulatedSource(2_000_000_000_000_000_000, False, 0, "synchronized")
    opts = NodeOptions(durability="unsafe-no-sync")
    node = Node.open(tmp_path / "d", opts, clock=dclock.Clock(source))
    node.commit(node.begin(), [(b"k", b"1")], [(b"k", Kind.FULL)])
    source.advance(1_000_000)
    tau = node.begin()
    assert node.get(b"k", tau) == b"1"  # storage served τ
    node.close()  # the process dies (nothing unsynced here)
    source.step(-500_000)  # the clock steps back across the restart
    node = Node.open(tmp_path / "d", opts, clock=dclock.Clock(source))
    try:
        commit_ts = node.commit(node.begin(), [(b"k", b"2")], [(b"k", Kind.FULL)])
        assert commit_ts > tau, "a commit landed at or below a timestamp already served"
    finally:
        node.close()


def test_fault_config_rejects_bad_probability() -> None:
    with pytest.raises(AssertionError):
        FaultConfig(drop_p=1.5)
    with pytest.raises(ValueError):
        FaultConfig.named("storm")
