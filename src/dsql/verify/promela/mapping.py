"""Which part of the model stands for which function of the code.

Each Link says: this name in commit.pml models this symbol in this file. The test suite checks
that all three still exist (the model element in commit.pml, the symbol in the source file, the
pair in docs/promela-model.md), so renaming or removing either side fails a test that points
here: update the model, this list and the document together.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Link:
    model: str    # a name in commit.pml (inline, macro, variable or process)
    path: str     # a file of the repository
    symbol: str   # a name in that file


LINKS: tuple[Link, ...] = (
    # clock
    Link("next_above", "cpp/clock/hybrid_clock.h", "next_above"),
    # an adjudicator shard
    Link("find_conflict", "cpp/adjudicator/adjudicator.cc", "Adjudicator::find_conflict"),
    Link("record", "cpp/adjudicator/adjudicator.cc", "Adjudicator::record"),
    Link("adjudicate", "cpp/adjudicator/adjudicator.cc", "Adjudicator::decide_one"),
    Link("prepare", "cpp/adjudicator/adjudicator_vote.cc", "Adjudicator::prepare"),
    Link("release", "cpp/adjudicator/adjudicator_vote.cc", "Adjudicator::release"),
    Link("decide_at", "cpp/adjudicator/adjudicator_vote.cc", "Adjudicator::decide"),
    Link("expire", "cpp/adjudicator/adjudicator_vote.cc", "Adjudicator::expire_pending_locked"),
    Link("promise_through", "cpp/adjudicator/adjudicator_vote.cc",
         "Adjudicator::promise_through"),
    Link("promise_through", "cpp/adjudicator/shard_map.cc",
         "AdjudicatorShardMap::promise_through"),
    # the coordinator
    Link("COUNT_VOTES", "cpp/adjudicator/shard_map.cc", "decide_votes"),
    Link("vote_locked", "cpp/adjudicator/shard_map.cc", "AdjudicatorShardMap::commit"),
    # the sequencer
    Link("advance", "src/dsql/node/sequencer.py", "def _advance_locked"),
    Link("seq_promise", "src/dsql/node/sequencer.py", "def promise"),
    Link("seq_decided", "src/dsql/node/sequencer.py", "def decide"),
    Link("infl", "src/dsql/node/sequencer.py", "def finish"),
    Link("plsn", "src/dsql/node/sequencer.py", "def journaled"),
    Link("Checkpointer", "src/dsql/node/sequencer.py", "def replay_point"),
    # the node
    Link("Writer", "src/dsql/node/node.py", "def begin"),
    Link("Writer", "src/dsql/node/node.py", "def commit"),
    Link("Checkpointer", "src/dsql/node/node.py", "def checkpoint"),
    Link("replay", "src/dsql/node/node.py", "def open"),
    # journal, crossbar, storage
    Link("FDATASYNC", "src/dsql/journal.py", "def append"),
    Link("jfirst", "src/dsql/journal.py", "def drop_through"),
    Link("app", "src/dsql/node/crossbar.py", "def deliver"),
    Link("replay", "src/dsql/node/crossbar.py", "def replay"),
    Link("SW", "cpp/storage/shard_map.h", "advance_watermark"),
    Link("read_key", "cpp/storage/mvcc_store.h", "await_watermark"),
)
