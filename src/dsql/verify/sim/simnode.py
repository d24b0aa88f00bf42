"""The simulated node: the real commit-path components, driven by simulated events.

One node holds what a dsql process holds (src/dsql/node/node.py): the sharded adjudicator
(real C++ kernel, with its multi-shard vote), the sequencer, the journal (real C++ journal
over real files in a temporary directory), the crossbar and the range-sharded MvccStore. It is
opened, recovered and checkpointed by the real ``Node`` code; what this module adds is the
commit path cut into simulated steps with seeded delays between them, so that commits
overtake one another as they do under real concurrency:

    commit request ──decide (sequencer + adjudicator)──▶ [delay] journal write
        ──▶ [group sync: SimDisk.sync] ──▶ [delay; delivery may be lost and retried]
        crossbar apply, sequencer finish, storage watermark ──▶ reply "committed"

This is Node.commit's order, step by step; to run it the module reaches into Node's private
members (``_sequencer``, ``_adjudicate``, ``_crossbar``), so a change to Node.commit must be
mirrored in ``_commit`` .. ``_apply`` here. Checkpoints and storage GC run at seeded moments
through Node's public methods. Reads at τ are served by storage only when its
watermark has reached τ; otherwise they wait (parked) until it does. The node's clock is a
``SimulatedSource`` advanced by the scheduler, with seeded offset, drift and steps.

A crash kills everything in the node: in-flight commits, parked reads, adjudicator state,
unsynced journal bytes (SimDisk.crash, maybe leaving a torn record). Restart is Node.open on
the same directory with a fresh hybrid clock over the same (possibly stepped) source; the
node's epoch changes, and requests from transactions begun in an older epoch are refused, as
a restarted server refuses the sessions of the process that died.

Invariants: 1. a commit is replied "committed" only after its record was synced (unless the
ACK_BEFORE_SYNC bug is on); 2. at most PARKED_READS_MAX reads wait; 3. every scheduled step
carries the epoch it belongs to and does nothing in a later one.
Thread-safety: single-threaded, driven by the Scheduler.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from dsql import clock as dclock
from dsql.adjudicator import Kind, Result
from dsql.node.node import Node, NodeOptions
from dsql.storage.store import SnapshotTooOld, StorageError
from dsql.verify.sim.bugs import SKIPPED_KEY, Bug
from dsql.verify.sim.disk import SimDisk
from dsql.verify.sim.faults import (
    CLOCK_SKEW,
    CLOCK_STEP,
    CRASH,
    LOST_UNSYNCED,
    MSG_DROP,
    TORN_RECORD,
    FaultConfig,
    FaultCounts,
)
from dsql.verify.sim.network import Message, Network
from dsql.verify.sim.oracle import Oracle
from dsql.verify.sim.scheduler import Scheduler

NAME = "node"
EPOCH_START_NS = 1_800_000_000_000_000_000
PARKED_READS_MAX = 1_000
HEARTBEAT_NS = 2_000_000
CROSSBAR_RETRY_NS = 3_000_000


class SimNode:
    def __init__(self, sched: Scheduler, net: Network, faults: FaultConfig,
                 counts: FaultCounts, root: Path, options: NodeOptions, bug: Bug,
                 oracle: Oracle) -> None:
        self.sched = sched
        self.net = net
        self.faults = faults
        self.counts = counts
        self.root = root
        self.options = options
        self.bug = bug
        self.oracle = oracle
        rng = sched.rng
        offset = rng.randint(-faults.clock_offset_max_ns, faults.clock_offset_max_ns)
        self.source = dclock.SimulatedSource(EPOCH_START_NS + offset, False, 1_000_000,
                                             "synchronized")
        if offset:
            counts[CLOCK_SKEW] += 1
        if faults.clock_drift_max_ppb:
            self.source.set_drift_ppb(rng.randint(-faults.clock_drift_max_ppb,
                                                  faults.clock_drift_max_ppb))
        sched.on_advance(self.source.advance)
        self.disk = SimDisk(root / "journal")
        self.epoch = 0
        self.node: Node | None = None
        self.up = False
        self.faults_on = True
        self.commits_applied = 0
        self.refusals: dict[str, int] = {}  # commit requests not committed, by outcome
        self._crash_after_next_write = False
        self.too_old_reads = 0
        self._parked: list[tuple[str, Message]] = []
        self._awaiting_sync: list[tuple[int, int, list[tuple[bytes, bytes | None]], str,
                                        int]] = []
        self._sync_scheduled = False
        self._requests: dict[int, Message | None] = {}  # txn id -> reply (None: in progress)
        net.register(NAME, self._on_message)

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Opens (recovers) the data directory: the real Node.open."""
        assert not self.up
        self.epoch += 1
        clock = dclock.Clock(self.source, ["simulated: the node's clock in a simulation"])
        self.node = Node.open(self.root, self.options, clock=clock)
        if self.bug is Bug.CHECKPOINT_LSN:
            node, sequencer = self.node, self.node._sequencer
            sequencer.replay_point = (  # type: ignore[method-assign]
                lambda: (sequencer.watermark, node.journal.durable_lsn + 1))
        self.disk.sync()  # what recovery left is on disk
        self.up = True
        self._parked = []
        self._awaiting_sync = []
        self._sync_scheduled = False
        self._requests = {}
        self._crash_after_next_write = False
        self.net.set_up(NAME, True)
        report = self.node.open_report
        self.sched.note(f"node up epoch {self.epoch} watermark {self.node.watermark} "
                        f"replayed {report.replay.records_applied} "
                        f"cut {report.journal.truncated_bytes}")
        self._every(HEARTBEAT_NS, "heartbeat", self._heartbeat)

    def crash(self) -> None:
        """Power loss: the process dies and unsynced journal bytes are lost (maybe torn)."""
        assert self.up and self.node is not None
        self.counts[CRASH] += 1
        self.up = False
        self.net.set_up(NAME, False)
        self.node.close()
        self.node = None
        report = self.disk.crash(self.sched.rng, self.faults.torn_p)
        if report.lost_bytes:
            self.counts[LOST_UNSYNCED] += 1
        if report.torn:
            self.counts[TORN_RECORD] += 1
        self.sched.note(f"crash epoch {self.epoch} lost {report.lost_bytes} "
                        f"kept {report.kept_unsynced_bytes}")

    def stop(self) -> None:
        if self.node is not None:
            self.node.close()
            self.node = None
        self.up = False

    def schedule_faults(self) -> None:
        """Crashes, clock steps and checkpoints at seeded moments (while faults_on)."""
        f = self.faults
        if f.crash_mean_interval_ns:
            self._random_every(f.crash_mean_interval_ns, "crash", self._crash_soon)
        if f.step_mean_interval_ns:
            self._random_every(f.step_mean_interval_ns, "clock-step", self._step_clock)
        if f.checkpoint_mean_interval_ns:
            self._random_every(f.checkpoint_mean_interval_ns, "checkpoint", self._checkpoint,
                               always=True)
        if f.gc_mean_interval_ns:
            self._random_every(f.gc_mean_interval_ns, "gc", self._gc, always=True)

    def _random_every(self, mean_ns: int, label: str, fn: Callable[[], None],
                      always: bool = False) -> None:
        def fire() -> None:
            if not self.faults_on:
                return
            if always or self.up:
                fn()
            self.sched.after(int(self.sched.rng.expovariate(1 / mean_ns)), label, fire)
        self.sched.after(int(self.sched.rng.expovariate(1 / mean_ns)), label, fire)

    def _crash_soon(self) -> None:
        """Half the crashes strike at once; the other half soon after the next journal write,
        while its bytes are likely unsynced (else most crashes would find nothing to lose)."""
        if self.sched.rng.random() < 0.5:
            self._crash_and_restart()
        else:
            self._crash_after_next_write = True

    def _crash_if_faults_on(self) -> None:
        if self.faults_on:
            self._crash_and_restart()

    def _crash_and_restart(self) -> None:
        if not self.up:
            return
        self._crash_after_next_write = False
        self.crash()
        f = self.faults
        self.sched.after(self.sched.rng.randint(f.downtime_min_ns, f.downtime_max_ns),
                         "restart", self.start)

    def _step_clock(self) -> None:
        delta = self.sched.rng.randint(-self.faults.step_max_ns, self.faults.step_max_ns)
        self.source.step(delta)
        self.counts[CLOCK_STEP] += 1
        self.sched.note(f"clock step {delta}")

    def _checkpoint(self) -> None:
        if self.up and self.node is not None:
            manifest = self.node.checkpoint()
            self.sched.note(f"checkpoint ts {manifest.ts} lsn {manifest.replay_lsn}")

    def _gc(self) -> None:
        """Storage GC with a horizon a seeded lag below the watermark; reads below it are
        then refused (SnapshotTooOld) and their transactions fail."""
        if self.up and self.node is not None:
            lag = self.sched.rng.randint(self.faults.gc_lag_min_ns, self.faults.gc_lag_max_ns)
            horizon = self.node.watermark - lag
            self.node.gc(horizon)
            self.sched.note(f"gc below {horizon}")

    def _every(self, period_ns: int, label: str, fn: Callable[[], None]) -> None:
        epoch = self.epoch

        def fire() -> None:
            if self.epoch != epoch or not self.up:
                return
            fn()
            self.sched.after(period_ns, label, fire)
        self.sched.after(period_ns, label, fire)

    def _in_epoch(self, epoch: int, fn: Callable[[], None]) -> Callable[[], None]:
        def step() -> None:
            if self.epoch == epoch and self.up:
                fn()
        return step

    # -- requests ----------------------------------------------------------------------------
    def _on_message(self, src: str, msg: Message) -> None:
        assert self.up and self.node is not None
        kind = msg[0]
        if kind == "begin":
            self._reply(src, ("begun", msg[1], self.epoch, self.node.begin()))
        elif kind == "read":
            self._read(src, msg)
        elif kind == "commit":
            self._commit(src, msg)
        else:
            raise AssertionError(f"unknown message {kind}")

    def _reply(self, dst: str, msg: Message) -> None:
        self.net.send(NAME, dst, msg)

    def _read(self, src: str, msg: Message) -> None:
        _, req, epoch, ts, keys = msg
        if epoch != self.epoch:
            self._reply(src, ("error", req, "session lost in a restart"))
            return
        assert self.node is not None
        if ts > self.node.watermark:
            if len(self._parked) < PARKED_READS_MAX:
                self._parked.append((src, msg))
            return
        try:
            values = self.node.get_many(list(keys), ts)
        except SnapshotTooOld:
            self.too_old_reads += 1
            self._reply(src, ("error", req, "snapshot too old"))
            return
        for key, value in zip(keys, values, strict=True):
            self.oracle.served(key, ts, value, self.epoch)
        self._reply(src, ("values", req, values))

    def _retry_parked(self) -> None:
        assert self.node is not None
        if not self._parked:
            return
        parked, self._parked = self._parked, []
        for src, msg in parked:
            self._read(src, msg)

    def _heartbeat(self) -> None:
        assert self.node is not None
        self.node.heartbeat()
        self._retry_parked()

    def _commit(self, src: str, msg: Message) -> None:
        _, req, epoch, txn_id, start_ts, writes, claims = msg
        if epoch != self.epoch:
            # The session died with an older process. Another copy of this request may have
            # reached that process and committed, so the client learns only that the outcome
            # is unknown (as a client whose connection broke during COMMIT does).
            self.refusals["stale-epoch"] = self.refusals.get("stale-epoch", 0) + 1
            self._reply(src, ("session-lost", req))
            return
        if txn_id in self._requests:  # a duplicate: the first copy's answer, once known
            answer = self._requests[txn_id]
            if answer is not None:
                self._reply(src, answer)
            return
        node = self.node
        assert node is not None
        if self.bug is Bug.SKIP_KEY:
            claims = [c for c in claims if c[0] != SKIPPED_KEY]
        def adjudicate() -> tuple[Result, int | None]:
            r = node._adjudicate(start_ts, claims, txn_id)
            return r, r.commit_ts if r.committed else None

        result = node._sequencer.decide(adjudicate)
        if not result.committed:
            label = result.outcome.label
            self.refusals[label] = self.refusals.get(label, 0) + 1
            answer: Message = ("aborted", req, label)
            self._requests[txn_id] = answer
            self._reply(src, answer)
            return
        commit_ts = result.commit_ts
        assert commit_ts is not None
        self._requests[txn_id] = None
        self.oracle.decided(txn_id, commit_ts, writes, self.epoch)
        self.sched.note(f"decided txn {txn_id} at {commit_ts}")
        delay = self.sched.rng.randint(0, self.faults.stage_delay_max_ns)
        self.sched.after(delay, "journal-write", self._in_epoch(
            self.epoch, lambda: self._journal_write(commit_ts, txn_id, writes, src, req)))

    def _journal_write(self, commit_ts: int, txn_id: int,
                       writes: list[tuple[bytes, bytes | None]], src: str, req: int) -> None:
        node = self.node
        assert node is not None
        lsn = node.journal.append(commit_ts, writes)
        node._sequencer.journaled(commit_ts, lsn)
        self.sched.note(f"journaled {commit_ts} lsn {lsn}")
        if self.bug is Bug.ACK_BEFORE_SYNC:
            self._after_durable(commit_ts, txn_id, writes, src, req)
        else:
            self._awaiting_sync.append((commit_ts, txn_id, writes, src, req))
        if self._crash_after_next_write and self.faults_on:
            self._crash_after_next_write = False
            self.sched.after(self.sched.rng.randint(0, self.faults.sync_max_ns), "crash",
                             self._in_epoch(self.epoch, self._crash_if_faults_on))
        if not self._sync_scheduled:
            self._sync_scheduled = True
            f = self.faults
            self.sched.after(self.sched.rng.randint(f.sync_min_ns, f.sync_max_ns), "sync",
                             self._in_epoch(self.epoch, self._sync))

    def _sync(self) -> None:
        self._sync_scheduled = False
        self.disk.sync()
        durable, self._awaiting_sync = self._awaiting_sync, []
        for commit_ts, txn_id, writes, src, req in durable:
            self._after_durable(commit_ts, txn_id, writes, src, req)

    def _after_durable(self, commit_ts: int, txn_id: int,
                       writes: list[tuple[bytes, bytes | None]], src: str, req: int) -> None:
        """Hands the durable commit to the crossbar. Its delivery can be lost (drop_p): the
        crossbar then finds the record on its next pass over the journal, CROSSBAR_RETRY_NS
        later."""
        rng = self.sched.rng
        delay = rng.randint(0, self.faults.stage_delay_max_ns)
        if self.faults_on and self.faults.drop_p and rng.random() < self.faults.drop_p:
            self.counts[MSG_DROP] += 1
            self.sched.note(f"crossbar delivery of {commit_ts} lost")
            delay += CROSSBAR_RETRY_NS
        self.sched.after(delay, "apply", self._in_epoch(
            self.epoch, lambda: self._apply(commit_ts, txn_id, writes, src, req)))

    def _apply(self, commit_ts: int, txn_id: int, writes: list[tuple[bytes, bytes | None]],
               src: str, req: int) -> None:
        node = self.node
        assert node is not None
        try:
            node._crossbar.deliver(commit_ts, writes)
        except (StorageError, ValueError) as e:
            # Node.commit's answer: durable but not applicable, so the node stops; reopening
            # replays the journal. (Only a bug gets here.)
            self.sched.note(f"apply failed at {commit_ts}: {e}")
            self.oracle.note_failure(f"apply of commit {commit_ts} failed: {e}")
            self._crash_and_restart()
            return
        watermark = node._sequencer.finish(commit_ts)
        if self.bug is Bug.WATERMARK_AHEAD:
            watermark = max(watermark, commit_ts)
        node.storage.advance_watermark(watermark)
        self.commits_applied += 1
        answer: Message = ("committed", req, commit_ts)
        self._requests[txn_id] = answer
        self._reply(src, answer)
        self._retry_parked()

    # -- the end of a run --------------------------------------------------------------------
    def final_read(self, keys: list[bytes]) -> tuple[int, list[bytes | None]]:
        """A snapshot read of `keys` at a fresh timestamp, outside the network."""
        assert self.up and self.node is not None
        node = self.node
        ts = node.begin()
        if ts > node.watermark:
            node.heartbeat()
        assert ts <= node.watermark, "nothing is in flight at the end of a run"
        return ts, node.get_many(list(keys), ts)

    def load_initial(self, writes: list[tuple[bytes, bytes | None]]) -> int:
        """The run's initial data, committed through the real Node.commit path."""
        assert self.node is not None
        ts = self.node.commit(self.node.begin(), writes, [(k, Kind.FULL) for k, _ in writes])
        self.disk.sync()
        return ts

    def stats(self) -> dict[str, Any]:
        return {"epochs": self.epoch, "syncs": self.disk.syncs,
                "commits_applied": self.commits_applied, "refusals": dict(self.refusals),
                "too_old_reads": self.too_old_reads}
