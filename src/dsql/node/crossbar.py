"""The crossbar: carries committed transactions from the journal into storage.

Live commits arrive right after their journal record is durable (``deliver``); on recovery the
crossbar reads the journal itself, in file order, and applies every record above the checkpoint
it starts from (``replay``). Either way the storage shard map routes each write to the shard that
owns its key, and one transaction's writes are applied under one commit timestamp, which storage
makes visible atomically once the watermark passes it.

Thread-safety: deliver() may be called from many committing threads at once (storage serialises
its appliers); replay() runs alone, before the node takes commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dsql.journal import Journal
from dsql.storage.store import ShardMap

Write = tuple[bytes, bytes | None]


@dataclass(frozen=True)
class ReplayReport:
    records_read: int
    records_applied: int
    max_commit_ts: int  # the newest commit applied, or the floor when none was
    last_lsn: int  # the last lsn read, or from_lsn - 1 when none was


class Crossbar:
    def __init__(self, storage: ShardMap) -> None:
        self._storage = storage

    def deliver(self, commit_ts: int, writes: Sequence[Write]) -> None:
        """Applies one durable transaction."""
        self._storage.apply(commit_ts, writes if isinstance(writes, list) else list(writes))

    def replay(self, journal: Journal, from_lsn: int, floor_ts: int) -> ReplayReport:
        """Applies every record from `from_lsn` on whose commit ts is above `floor_ts` (records
        at or below it are already in the checkpoint image storage was loaded from)."""
        read = applied = 0
        max_ts = floor_ts
        last_lsn = from_lsn - 1
        for batch in journal.read_from(from_lsn):
            for commit_ts, lsn, writes in batch:
                read += 1
                last_lsn = lsn
                if commit_ts <= floor_ts:
                    continue
                self._storage.apply(commit_ts, writes)
                applied += 1
                max_ts = max(max_ts, commit_ts)
        return ReplayReport(read, applied, max_ts, last_lsn)
