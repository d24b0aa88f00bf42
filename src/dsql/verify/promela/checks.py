"""The configurations of the commit-protocol model that spin checks, and what each must give.

A Check names a universe (writers and their write sets as key bitmasks over keys 0 1 | 2 3,
shard 0 | shard 1), a mode, and either "no error" or the property an injected bug must break.
The quick set runs in the test suite (well under a minute in all); the full set adds the
three-writer universes (minutes, a few GB). docs/promela-model.md explains each check and keeps
the latest figures.

    for check in checks(full=False):
        verdict = run_check(check)
        assert verdict.met, verdict.describe()
"""

from __future__ import annotations

from dataclasses import dataclass

from dsql.verify.promela.spin import SpinResult, run_spin

# Write sets (key bitmasks): a vote spans both shards, a fast path stays on one.
VOTE_0_2 = 5    # {0, 2}
VOTE_1_3 = 10   # {1, 3}: disjoint from {0, 2}
VOTE_0_3 = 9    # {0, 3}: overlaps {0, 2} on key 0
FAST_2 = 4      # {2}: overlaps {0, 2} on key 2
FAST_0 = 1      # {0}

# The properties, as the model's assert messages name them.
LOST = "lost_none"                  # P1
ONE_WINNER = "one_winner"           # P2
SNAPSHOT = "snapshot_exact"         # P3
END_STATE = "invalid end state"     # P4


@dataclass(frozen=True)
class Check:
    name: str
    defines: tuple[str, ...]   # -D flags for spin, e.g. ("NW=2", "WS1=4")
    why: str
    breaks: str | None = None  # the property an injected bug must break; None: must pass
    full: bool = False         # only in the full set
    big: bool = False          # compile pan optimised (and collapse states when full)


def _universe(*write_sets: int, mode: tuple[str, ...] = ()) -> tuple[str, ...]:
    assert 1 <= len(write_sets) <= 3 and all(0 < w < 16 for w in write_sets)
    return (f"NW={len(write_sets)}", *(f"WS{i}={w}" for i, w in enumerate(write_sets)), *mode)


_LOCKED_PAIR = _universe(VOTE_0_2, FAST_2)
_SPLIT_PAIR = _universe(VOTE_0_2, FAST_2, mode=("VOTES_INTERLEAVE",))


def _bug(name: str, base: tuple[str, ...], breaks: str, why: str, *, big: bool = False) -> Check:
    return Check(f"bug/{name.lower().replace('_', '-')}",
                 (*base, "PROPERTIES_ONLY", f"BUG_{name}"), why, breaks=breaks, big=big)


CHECKS: tuple[Check, ...] = (
    # -- the node as it is: the whole vote under the sequencer's lock --------------------------
    Check("locked/vote+fast", _LOCKED_PAIR,
          "a vote and an overlapping single-shard commit, a reader, crashes"),
    Check("locked/disjoint-votes", _universe(VOTE_0_2, VOTE_1_3),
          "two votes on disjoint keys: they commit in either order, journal order free"),
    Check("locked/overlapping-votes", _universe(VOTE_0_2, VOTE_0_3),
          "two votes that conflict on key 0"),
    Check("locked/two-readers", (*_LOCKED_PAIR, "NR=2"),
          "two readers racing their promises against the commits"),
    Check("locked/checkpoint", _universe(VOTE_0_2, VOTE_1_3, mode=("CHECKPOINT",)),
          "a checkpoint at any moment, journal records below its replay lsn deleted, recovery "
          "from it", big=True),
    Check("locked/three-writers", _universe(VOTE_0_2, VOTE_1_3, FAST_2),
          "two disjoint votes and a single-shard commit overlapping one", full=True, big=True),
    # -- shards as separate processes: the vote's messages interleave --------------------------
    Check("split/vote+fast", _SPLIT_PAIR,
          "a vote whose holds meet a fast path; holds may expire, the coordinator time out"),
    Check("split/overlapping-votes", _universe(VOTE_0_2, VOTE_0_3, mode=("VOTES_INTERLEAVE",)),
          "two conflicting votes interleaved message by message", big=True),
    Check("split/disjoint-votes", _universe(VOTE_0_2, VOTE_1_3,
                                            mode=("VOTES_INTERLEAVE", "NO_EXPIRY")),
          "two disjoint votes interleaved, deciding in either order (no expiry)", big=True),
    Check("split/disjoint-votes-expiry", _universe(VOTE_0_2, VOTE_1_3,
                                                   mode=("VOTES_INTERLEAVE",)),
          "two disjoint votes interleaved, with hold expiry", full=True, big=True),
    Check("split/three-writers", _universe(VOTE_0_2, FAST_2, FAST_0,
                                           mode=("VOTES_INTERLEAVE",)),
          "a vote and two single-shard commits, one on each of its shards", full=True, big=True),
    # -- injected bugs: each must be caught ----------------------------------------------------
    _bug("WATERMARK_IGNORES_IN_FLIGHT", _LOCKED_PAIR, SNAPSHOT,
         "the watermark advances to the highest decided ts, past a commit not yet applied"),
    _bug("PROMISE_IN_FLIGHT", _LOCKED_PAIR, SNAPSHOT,
         "a reader's ts is promised, and the watermark moved to it, while a commit at or "
         "below it is in flight"),
    _bug("NO_DEFERRED_PROMISE", _LOCKED_PAIR, END_STATE,
         "finish() never promises for a reader waiting behind the commit: the reader hangs"),
    _bug("SKIP_KEY", _LOCKED_PAIR, ONE_WINNER,
         "the adjudicator's conflict check skips one key of the write set"),
    _bug("ACK_BEFORE_SYNC", _LOCKED_PAIR, LOST,
         "a commit is acknowledged before its journal record is durable"),
    _bug("VISIBLE_BEFORE_SYNC", _LOCKED_PAIR, SNAPSHOT,
         "the watermark passes a commit before its record is durable: a reader sees what a "
         "crash then loses"),
    _bug("REPLAY_DROPS_OLDER", _LOCKED_PAIR, LOST,
         "replay skips a record older than one replayed before it (journal order is not "
         "commit-ts order)"),
    _bug("REPLAY_POINT_DURABLE", (*_universe(VOTE_0_2, VOTE_1_3), "CHECKPOINT"), LOST,
         "a checkpoint's replay lsn ignores commits above its watermark, so their records "
         "are deleted"),
    _bug("NO_HOLD_CHECK", _SPLIT_PAIR, ONE_WINNER,
         "a shard's conflict check ignores keys held by prepared votes"),
    _bug("ACCEPT_EXPIRED", _SPLIT_PAIR, ONE_WINNER,
         "a shard takes a commit decision for a vote whose hold it already expired"),
    _bug("ABORT_HOLDS_READERS", _SPLIT_PAIR, END_STATE,
         "an aborted vote leaves the sequencer without advancing storage's watermark: a "
         "reader behind it hangs"),
    _bug("VOTE_UNTRACKED", _universe(VOTE_0_2, VOTE_1_3, mode=("VOTES_INTERLEAVE", "NO_EXPIRY")),
         SNAPSHOT, "with the vote out of the sequencer's lock, the sequencer learns of a vote "
         "only at its decision (as today's Sequencer.decide would)"),
)


def checks(*, full: bool = False) -> list[Check]:
    """The quick set, or every check."""
    return [c for c in CHECKS if full or not c.full]


def by_name(name: str) -> Check:
    for c in CHECKS:
        if c.name == name:
            return c
    raise KeyError(f"no check named {name!r}; known: {', '.join(c.name for c in CHECKS)}")


@dataclass(frozen=True)
class Verdict:
    check: Check
    result: SpinResult

    @property
    def met(self) -> bool:
        """The check came out as it must: no error over the whole state space, or the
        expected property broken."""
        r = self.result
        if self.check.breaks is None:
            return r.errors == 0 and r.complete and r.states_stored > 0
        return r.errors > 0 and r.violation == self.check.breaks

    def describe(self) -> str:
        r = self.result
        want = "no error" if self.check.breaks is None else f"a violation of {self.check.breaks}"
        got = ("no error" if r.errors == 0 else f"errors: {r.errors} ({r.violation})")
        if not r.complete:
            got += ", search incomplete (depth or memory bound)"
        lines = [f"{self.check.name}: wanted {want}, spin found {got}; "
                 f"{r.states_stored} states stored, depth {r.depth}",
                 f"  spin -D{' -D'.join(self.check.defines)} -a commit.pml"]
        lines += [f"  {step}" for step in r.trail]
        return "\n".join(lines)


def run_check(check: Check, *, timeout_s: float = 900.0) -> Verdict:
    result = run_spin(check.defines, memory_mb=4096 if check.full else 1024,
                      hash_bits=26 if check.full else 22, optimize=check.big,
                      collapse=check.full, timeout_s=timeout_s)
    return Verdict(check, result)
