"""What can go wrong in a simulated run, and how often: the knobs of the fault injection.

All rates are drawn through the scheduler's seeded random stream. ``FaultConfig.none()`` is a
fault-free run (still with seeded delays and interleavings); ``FaultConfig()`` is the default
mix the quick runs and the tests use. Counts of injected faults are kept by kind in a
``FaultCounts`` (a plain dict), reported per run.

Invariants: 1. probabilities are in [0, 1]; 2. every min <= max.
Thread-safety: immutable configuration; counts belong to one run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

MS = 1_000_000
US = 1_000

# Fault kinds, as reported in `faults_injected`.
CRASH = "crash"
TORN_RECORD = "torn-record"
LOST_UNSYNCED = "lost-unsynced-writes"
MSG_DROP = "message-drop"
MSG_DUP = "message-duplicate"
MSG_DELAY = "message-long-delay"
CLOCK_STEP = "clock-step"
CLOCK_SKEW = "clock-skew"
FAULT_KINDS = (CRASH, TORN_RECORD, LOST_UNSYNCED, MSG_DROP, MSG_DUP, MSG_DELAY, CLOCK_STEP,
               CLOCK_SKEW)

FaultCounts = dict[str, int]


def new_counts() -> FaultCounts:
    return {k: 0 for k in FAULT_KINDS}


@dataclass(frozen=True)
class FaultConfig:
    # Network between clients and the node: every message takes delay_min..delay_max; with
    # long_delay_p it takes up to long_delay_max instead (reordering it behind later ones).
    delay_min_ns: int = 50 * US
    delay_max_ns: int = 400 * US
    long_delay_p: float = 0.03
    long_delay_max_ns: int = 8 * MS
    drop_p: float = 0.02
    dup_p: float = 0.02
    # Inside the node: time from a decision to its journal write, from the durable write to
    # the crossbar's apply (seeded, so commits overtake one another), and one fdatasync.
    stage_delay_max_ns: int = 600 * US
    sync_min_ns: int = 100 * US
    sync_max_ns: int = 1500 * US
    # Crashes of the node (journal, storage, adjudicator and sequencer die together), with
    # the loss of unsynced journal bytes; with torn_p a random prefix of them survives.
    crash_mean_interval_ns: int = 60 * MS
    downtime_min_ns: int = 1 * MS
    downtime_max_ns: int = 6 * MS
    torn_p: float = 0.6
    # The node's clock: a seeded offset and drift, and steps (forward or back) now and then.
    clock_offset_max_ns: int = 50 * MS
    clock_drift_max_ppb: int = 200_000
    step_mean_interval_ns: int = 30 * MS
    step_max_ns: int = 20 * MS
    checkpoint_mean_interval_ns: int = 25 * MS
    # Storage GC (not a fault, but old versions disappear): a horizon 0.2-3 ms below the
    # watermark; a read below it is refused and its transaction fails.
    gc_mean_interval_ns: int = 20 * MS
    gc_lag_min_ns: int = 200 * US
    gc_lag_max_ns: int = 3 * MS

    def __post_init__(self) -> None:
        for p in (self.long_delay_p, self.drop_p, self.dup_p, self.torn_p):
            assert 0.0 <= p <= 1.0, "probabilities are in [0, 1]"
        assert self.delay_min_ns <= self.delay_max_ns <= self.long_delay_max_ns
        assert self.sync_min_ns <= self.sync_max_ns
        assert self.downtime_min_ns <= self.downtime_max_ns

    @classmethod
    def none(cls) -> FaultConfig:
        """Seeded delays and interleavings, but no crash, loss, duplicate or clock fault."""
        return replace(cls(), long_delay_p=0.0, drop_p=0.0, dup_p=0.0,
                       crash_mean_interval_ns=0, clock_offset_max_ns=0, clock_drift_max_ppb=0,
                       step_mean_interval_ns=0)

    @classmethod
    def heavy(cls) -> FaultConfig:
        """Many more crashes, losses and duplicates, and clock steps wider than the
        adjudicator's window (so that some transactions become too old to check)."""
        return replace(cls(), long_delay_p=0.1, drop_p=0.08, dup_p=0.05,
                       crash_mean_interval_ns=15 * MS, torn_p=0.8, step_mean_interval_ns=10 * MS,
                       step_max_ns=120 * MS, checkpoint_mean_interval_ns=8 * MS)

    @classmethod
    def named(cls, name: str) -> FaultConfig:
        """"default", "none" or "heavy"."""
        if name == "default":
            return cls()
        if name == "none":
            return cls.none()
        if name == "heavy":
            return cls.heavy()
        raise ValueError(f"unknown fault profile {name!r} (default, none, heavy)")


PROFILES = ("default", "none", "heavy")
