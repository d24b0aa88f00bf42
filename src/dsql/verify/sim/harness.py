"""One simulated run per seed: wire the real components, run the workload with faults, check.

    result = run_seed(42)                      # SeedResult; result.ok, result.anomalies
    result = run_seed(42, bug=Bug.SKIP_KEY)    # the same run with a deliberate bug
    summary = run_quick(0)                     # several seeds, summarised as a dict

A run: open a node in a temporary directory (the real Node.open), load the bank's accounts,
start the clients and the fault schedule, run for `duration_ns` of simulated time; then stop
the faults, let every client finish (the network turns reliable), crash the node once more
(losing unsynced bytes, maybe tearing a record), recover it, read everything, and check
(checks.py). The same seed gives the same run, event for event: `trace_hash` is a digest of
every event, and a failure names the command that replays it.

Invariants: 1. every random choice comes from the scheduler's rng; 2. the temporary
directory is removed whatever happens; 3. a run is bounded (QUIESCE_MAX_NS of simulated time
after the workload, the scheduler's event bounds).
Thread-safety: one run per thread; runs share nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsql.adjudicator import AdjudicatorConfig
from dsql.node.node import NodeOptions
from dsql.verify.history import Op
from dsql.verify.sim import checks
from dsql.verify.sim.bugs import Bug
from dsql.verify.sim.client import Client, Recorder, Workload, account_key, encode_account
from dsql.verify.sim.faults import MS, FaultConfig, new_counts
from dsql.verify.sim.network import Network
from dsql.verify.sim.oracle import Oracle
from dsql.verify.sim.scheduler import Scheduler
from dsql.verify.sim.simnode import SimNode

QUIESCE_STEP_NS = 5 * MS
QUIESCE_MAX_NS = 2_000 * MS


@dataclass(frozen=True)
class SimConfig:
    clients: int = 4
    duration_ns: int = 200 * MS
    profile: str = "default"  # the named fault profile (faults.PROFILES) ...
    custom_faults: FaultConfig | None = None  # ... unless this is given
    workload: Workload = field(default_factory=Workload)
    # Several shards on both sides, so that multi-shard votes and routing are exercised.
    storage_splits: tuple[bytes, ...] = (b"b:002", b"l:000", b"l:003")
    adjudicator_splits: tuple[bytes, ...] = (b"b:002", b"l:002", b"l:004")
    window_ns: int = 40 * MS  # small, so that clock steps make some starts too old
    journal_segment_bytes: int = 4096  # small, so that segments roll over and get dropped
    # Count reads that a commit decided after a later crash landed below as failures
    # (checks.storage_findings; docs/simulation.md, "Findings").
    strict_promises: bool = True

    @property
    def faults(self) -> FaultConfig:
        return self.custom_faults or FaultConfig.named(self.profile)

    def node_options(self) -> NodeOptions:
        return NodeOptions(
            durability="unsafe-no-sync",  # the simulated disk (disk.py) decides what is synced
            storage_splits=self.storage_splits,
            adjudicator_splits=self.adjudicator_splits,
            adjudicator=AdjudicatorConfig(window_ns=self.window_ns, hash_seed=1),
            journal_segment_bytes=self.journal_segment_bytes,
            read_wait_timeout_ns=0,  # a read above the watermark waits in the node, not here
        )


@dataclass
class SeedResult:
    seed: int
    bug: Bug
    ok: bool
    anomalies: list[str]
    transactions: int
    committed: int
    aborted: int
    indeterminate: int
    faults_injected: dict[str, int]
    profile: str
    strict_promises: bool
    trace_hash: str
    events: int
    node: dict[str, Any]
    retroactive_reads: int  # see checks.storage_findings
    elapsed_s: float
    trace_tail: list[str] = field(default_factory=list)
    history: list[Op] = field(default_factory=list, repr=False)  # list-append, for Elle

    @property
    def replay_command(self) -> str:
        bug = "" if self.bug is Bug.NONE else f" --bug {self.bug.value}"
        faults = "" if self.profile == "default" else f" --faults {self.profile}"
        strict = "" if self.strict_promises else " --lenient-promises"
        return f"python -m dsql.verify.sim --seed {self.seed}{bug}{faults}{strict}"

    def failure_message(self) -> str:
        lines = [f"simulation seed {self.seed} (bug: {self.bug.value}) failed:"]
        lines += [f"  {a}" for a in self.anomalies]
        lines.append(f"replay: {self.replay_command}")
        return "\n".join(lines)


def _scratch_dir() -> str:
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    return tempfile.mkdtemp(prefix="dsql-sim-", dir=base)


def run_seed(seed: int, bug: Bug = Bug.NONE, config: SimConfig | None = None) -> SeedResult:
    """One run; never raises for a failed check (see SeedResult.ok / anomalies)."""
    cfg = config or SimConfig()
    assert cfg.clients > 0 and cfg.duration_ns > 0
    t0 = time.perf_counter()
    scratch = _scratch_dir()
    try:
        return _run(seed, bug, cfg, Path(scratch) / "data", t0)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run(seed: int, bug: Bug, cfg: SimConfig, root: Path, t0: float) -> SeedResult:
    sched = Scheduler(seed)
    counts = new_counts()
    net = Network(sched, cfg.faults, counts)
    oracle = Oracle()
    node = SimNode(sched, net, cfg.faults, counts, root, cfg.node_options(), bug, oracle)
    recorder = Recorder(sched)
    w = cfg.workload
    try:
        node.start()
        initial = [(account_key(i), encode_account(w.initial_balance, 0))
                   for i in range(w.accounts)]
        oracle.decided(0, node.load_initial(initial), initial, node.epoch)
        oracle.ack(0)
        clients = [Client(i, sched, net, recorder, oracle, w, cfg.duration_ns)
                   for i in range(cfg.clients)]
        for c in clients:
            c.start()
        node.schedule_faults()
        sched.run(cfg.duration_ns)

        # Quiesce: no more faults; every client finishes its transaction.
        node.faults_on = False
        net.reliable = True
        deadline = sched.now_ns + QUIESCE_MAX_NS
        while sched.now_ns < deadline and not (node.up and all(c.idle for c in clients)):
            sched.run(sched.now_ns + QUIESCE_STEP_NS)
        if not node.up:
            oracle.note_failure("the node did not come back up")
            sched.run(sched.now_ns + QUIESCE_STEP_NS)
            if not node.up:
                node.start()
        # A last crash, then recovery, then read everything.
        node.crash()
        node.start()
        keys = [b"l:%03d" % i for i in range(w.list_keys)] + [account_key(i)
                                                                 for i in range(w.accounts)]
        final_ts, values = node.final_read(keys)
        final = dict(zip(keys, values, strict=True))
        sched.note(f"final read at {final_ts}: " + " ".join(
            f"{k.decode()}={v!r}" for k, v in final.items()))
    finally:
        node.stop()

    history = recorder.ops + checks.final_read_op(len(recorder.ops), sched.now_ns, final)
    durable, findings = checks.durable_commits(oracle, final)
    anomalies = list(oracle.failures) + findings
    anomalies += checks.elle_findings(history)
    anomalies += checks.durability_findings(oracle, durable)
    storage, retroactive = checks.storage_findings(oracle, durable,
                                                   strict_promises=cfg.strict_promises)
    anomalies += storage
    anomalies += checks.bank_findings(oracle, final, w.initial_balance * w.accounts)
    committed = sum(c.counts["ok"] for c in clients)
    aborted = sum(c.counts["fail"] for c in clients)
    info = sum(c.counts["info"] for c in clients)
    return SeedResult(
        seed=seed, bug=bug, ok=not anomalies, anomalies=anomalies,
        transactions=committed + aborted + info, committed=committed, aborted=aborted,
        indeterminate=info, faults_injected=dict(counts),
        profile="custom" if cfg.custom_faults else cfg.profile,
        strict_promises=cfg.strict_promises, trace_hash=sched.trace_hash,
        events=sched.events_run, node=node.stats(), retroactive_reads=retroactive,
        elapsed_s=time.perf_counter() - t0,
        trace_tail=sched.trace_tail(), history=history)


def run_seeds(seeds: range | list[int], bug: Bug = Bug.NONE,
              config: SimConfig | None = None, *, stop_at_failure: bool = False
              ) -> list[SeedResult]:
    results: list[SeedResult] = []
    for seed in seeds:
        r = run_seed(seed, bug, config)
        results.append(r)
        if stop_at_failure and not r.ok:
            break
    return results


def summarize(results: list[SeedResult]) -> dict[str, Any]:
    """The dict `dsql verify` reports: seeds_run, transactions, committed, aborted,
    faults_injected (by kind), anomalies (each prefixed by its seed), ok, and timings."""
    faults: dict[str, int] = {}
    refusals: dict[str, int] = {}
    for r in results:
        for k, n in r.faults_injected.items():
            faults[k] = faults.get(k, 0) + n
        for k, n in r.node.get("refusals", {}).items():
            refusals[k] = refusals.get(k, 0) + n
    elapsed = sum(r.elapsed_s for r in results)
    return {
        "seeds_run": len(results),
        "seeds": [r.seed for r in results],
        "transactions": sum(r.transactions for r in results),
        "committed": sum(r.committed for r in results),
        "aborted": sum(r.aborted for r in results),
        "indeterminate": sum(r.indeterminate for r in results),
        "faults_injected": faults,
        "anomalies": [f"seed {r.seed}: {a} (replay: {r.replay_command})"
                      for r in results for a in r.anomalies],
        "ok": all(r.ok for r in results),
        "retroactive_reads": sum(r.retroactive_reads for r in results),
        "events": sum(r.events for r in results),
        "commit_refusals": refusals,
        "trace_hashes": {str(r.seed): r.trace_hash for r in results},
        "node_restarts": sum(r.node["epochs"] - 1 for r in results),
        "reads_refused_too_old": sum(r.node["too_old_reads"] for r in results),
        "elapsed_s": round(elapsed, 3),
        "seconds_per_seed": round(elapsed / len(results), 3) if results else 0.0,
    }


QUICK_SEEDS = 8


def run_quick(seed: int, seeds: int = QUICK_SEEDS) -> dict[str, Any]:
    """Seeds seed .. seed+seeds-1 with the default faults and no bug, summarised (the dict
    of `summarize`). This is what `dsql verify` calls."""
    assert seeds > 0
    return summarize(run_seeds(range(seed, seed + seeds)))
