"""The simulated disk under the journal: what an fdatasync made durable, and what a crash keeps.

The real journal (cpp/journal) writes real segment files in a temporary directory, with
``durability="unsafe-no-sync"``: its writes reach the file at once and it never syncs. This
module supplies the missing disk semantics. ``sync()`` is the simulated fdatasync: it records
the length of every segment file, and everything written before it is durable. ``crash()``
is a power loss: every segment file is cut back to its synced length (a file created since
the last sync disappears), except that, with probability ``torn_p``, a seeded prefix of the
unsynced bytes of the newest such file survives: whole records past the sync point, then
usually part of a record (a torn record, which recovery must cut).

Checkpoint files and manifests are written with fsync by the real code and survive a crash
as they are; a file deleted (journal segments dropped behind a checkpoint) stays deleted.

Invariants: 1. a crash never changes a byte below a file's synced length; 2. sizes recorded by
sync() are the files' lengths at that moment.
Thread-safety: single-threaded; the journal must be closed before crash().
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

SEGMENT_GLOB = "journal-*.seg"


@dataclass(frozen=True)
class CrashReport:
    lost_bytes: int  # unsynced bytes that did not survive
    kept_unsynced_bytes: int  # unsynced bytes that survived (a prefix)
    torn: bool  # whether a prefix survived (whole records and/or a torn one)


class SimDisk:
    def __init__(self, journal_dir: Path) -> None:
        self._dir = journal_dir
        self._synced: dict[str, int] = {}
        self.syncs = 0

    def _segments(self) -> list[Path]:
        return sorted(self._dir.glob(SEGMENT_GLOB)) if self._dir.exists() else []

    def sync(self) -> None:
        """fdatasync of every segment file: its current length becomes durable."""
        self._synced = {p.name: p.stat().st_size for p in self._segments()}
        self.syncs += 1
        assert all(n >= 0 for n in self._synced.values())

    def unsynced_bytes(self) -> int:
        return sum(max(0, p.stat().st_size - self._synced.get(p.name, 0))
                   for p in self._segments())

    def crash(self, rng: random.Random, torn_p: float) -> CrashReport:
        """Cuts every segment file back to what was synced, keeping (with probability
        torn_p) a random prefix of the newest file's unsynced bytes."""
        assert 0.0 <= torn_p <= 1.0
        segments = self._segments()
        dirty = [p for p in segments if p.stat().st_size > self._synced.get(p.name, 0)]
        keep_path: Path | None = None
        keep_bytes = 0
        if dirty and rng.random() < torn_p:
            keep_path = dirty[-1]
            extra = keep_path.stat().st_size - self._synced.get(keep_path.name, 0)
            keep_bytes = rng.randint(1, extra)
        lost = 0
        for p in dirty:
            size = p.stat().st_size
            synced = self._synced.get(p.name, 0)
            target = synced + (keep_bytes if p == keep_path else 0)
            assert synced <= target <= size
            lost += size - target
            if target == 0 and p.name not in self._synced:
                os.remove(p)
            else:
                os.truncate(p, target)
        self._synced = {p.name: p.stat().st_size for p in self._segments()}
        return CrashReport(lost, keep_bytes, keep_path is not None)
