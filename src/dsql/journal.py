"""The journal: the durable, ordered log of committed transactions.

A commit is acknowledged only once its record is durable: ``append`` returns the record's lsn
after the record is written and fdatasync'ed. Concurrent appends (from many threads; the GIL is
released while waiting) share one write and one fdatasync (group commit). Opening a journal
recovers it: the valid prefix is kept, a torn or corrupt tail is cut, and ``recovery`` says what
was found and where. With fdatasync durability, segment files are preallocated (written full of
zeros ahead of need, in the background) so that each commit's fdatasync flushes data only. The
format is in docs/journal-format.md.

    >>> j = Journal(path, durability="unsafe-no-sync")           # doctest: +SKIP
    >>> lsn = j.append(commit_ts, [(b"key", b"value"), (b"gone", None)])
    >>> for batch in j.read_from(1):
    ...     for commit_ts, lsn, writes in batch:
    ...         ...

Records are in lsn (file) order, which may differ from commit_ts order: two commits can finish
their journal writes out of timestamp order (docs/journal-format.md).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from dsql._core import _kernels

__all__ = [
    "Cursor",
    "Durability",
    "Journal",
    "JournalCorruption",
    "JournalError",
    "JournalStats",
    "Record",
    "RecoveryReport",
    "SegmentInfo",
    "Write",
    "crc32c",
    "inspect",
]

log = logging.getLogger("dsql.journal")

_k = _kernels.journal

JournalError = _k.JournalError
"""The journal cannot do what was asked: I/O failure, directory in use, closed, failed."""
JournalCorruption = _k.JournalCorruption
"""A durable record read back is damaged (message names the file and offset)."""
Cursor = _k.Cursor

Durability = Literal["fdatasync", "unsafe-no-sync"]
"""``fdatasync`` (default): acknowledged means on disk. ``unsafe-no-sync``: written to the OS
only, for tests and benchmarks; a power loss (not a process crash) can lose acknowledged
records."""

Write = tuple[bytes, bytes | None]
"""One write: (key, post-image value), or (key, None) for a deleted key."""
Record = tuple[int, int, list[Write]]
"""(commit_ts, lsn, writes)."""

DURABILITIES: tuple[str, ...] = ("fdatasync", "unsafe-no-sync")


@dataclass(frozen=True)
class RecoveryReport:
    """What opening the journal found and cut.

    ``last_lsn`` / ``last_commit_ts`` describe the last durable record (0 / None when there is
    none); ``max_commit_ts`` is the largest commit_ts present, which is what a clock must observe
    after a restart. When ``truncated``, ``truncated_file`` and ``truncated_offset`` say where
    the journal now ends and ``reason`` why; ``messages`` has one line per finding.
    ``spare_files`` are preallocated segments that were never used (left by a crash or a
    failure): opening removes them, and they are not damage.
    """

    first_lsn: int
    last_lsn: int
    next_lsn: int
    last_commit_ts: int | None
    max_commit_ts: int | None
    records: int
    segments: int
    truncated: bool
    truncated_file: str
    truncated_offset: int
    truncated_bytes: int
    reason: str
    dropped_files: tuple[str, ...]
    ignored_files: tuple[str, ...]
    spare_files: tuple[str, ...]
    messages: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return not self.truncated

    @classmethod
    def from_kernel(cls, r: _k.RecoveryReport) -> RecoveryReport:
        return cls(
            first_lsn=r.first_lsn,
            last_lsn=r.last_lsn,
            next_lsn=r.next_lsn,
            last_commit_ts=r.last_commit_ts,
            max_commit_ts=r.max_commit_ts,
            records=r.records,
            segments=r.segments,
            truncated=r.truncated,
            truncated_file=r.truncated_file,
            truncated_offset=r.truncated_offset,
            truncated_bytes=r.truncated_bytes,
            reason=r.reason,
            dropped_files=tuple(r.dropped_files),
            ignored_files=tuple(r.ignored_files),
            spare_files=tuple(r.spare_files),
            messages=tuple(r.messages),
        )


@dataclass(frozen=True)
class JournalStats:
    """Counters since open; ``appends / batches`` is the mean group-commit batch size;
    ``rollover_waits`` counts rollovers that had to wait for the next segment's zero-filling.
    ``syncs`` counts batches made durable (by fdatasync, or by an O_DSYNC direct write);
    ``direct_writes`` the batches written with O_DIRECT|O_DSYNC, and ``direct_fallbacks`` the
    segments written with pwritev + fdatasync because the filesystem refused O_DIRECT."""

    appends: int
    batches: int
    syncs: int
    bytes_written: int
    segments_created: int
    segments_dropped: int
    max_batch_records: int
    rollover_waits: int
    direct_writes: int = 0
    direct_fallbacks: int = 0

    @property
    def mean_batch_records(self) -> float:
        return self.appends / self.batches if self.batches else 0.0


@dataclass(frozen=True)
class SegmentInfo:
    seq: int
    first_lsn: int
    path: str
    bytes: int
    records: int


class Journal:
    """A journal directory opened for appending and reading (one Journal per directory).

    Thread-safe: any number of threads may append, read and drop concurrently. Use as a
    context manager or call ``close()``; queued appends finish before it returns.

    ``preallocate`` (default: on with fdatasync durability, off with unsafe-no-sync) writes
    each segment file full of zeros, ``segment_bytes`` long, before records go into it, so
    that a commit's fdatasync need not also commit a new file size; the next segment is
    prepared in a background thread.

    ``direct_writes`` (default on; fdatasync durability only) writes each batch with one
    O_DIRECT|O_DSYNC write of the blocks it covers instead of a write plus fdatasync
    (docs/journal-format.md, "Direct writes"); a segment on a filesystem that refuses O_DIRECT
    falls back to write + fdatasync (``stats().direct_fallbacks``).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        durability: Durability = "fdatasync",
        segment_bytes: int = 64 << 20,
        batch_records_max: int = 512,
        batch_bytes_max: int = 8 << 20,
        group_wait_ns: int = 0,
        queue_records_max: int = 16384,
        record_bytes_max: int = 32 << 20,
        create: bool = True,
        preallocate: bool | None = None,
        direct_writes: bool = True,
    ) -> None:
        if durability not in DURABILITIES:
            raise ValueError(
                f"durability must be one of {', '.join(DURABILITIES)}, not {durability!r}"
            )
        self._j = _k.Journal(
            os.fspath(path),
            durability=durability,
            segment_bytes=segment_bytes,
            batch_records_max=batch_records_max,
            batch_bytes_max=batch_bytes_max,
            group_wait_ns=group_wait_ns,
            queue_records_max=queue_records_max,
            record_bytes_max=record_bytes_max,
            create=create,
            preallocate=preallocate,
            direct_writes=direct_writes,
        )
        self.recovery = RecoveryReport.from_kernel(self._j.recovery)
        for line in self.recovery.messages:
            if self.recovery.truncated:
                log.warning("journal %s: %s", self.path, line)
            else:
                log.info("journal %s: %s", self.path, line)

    # -- writing -------------------------------------------------------------------------------
    def append(self, commit_ts: int, writes: Sequence[Write]) -> int:
        """Appends one transaction's writes; returns its lsn once the record is durable.

        Raises JournalError if the journal is closed or an earlier write or fdatasync failed
        (then nothing more is acknowledged until the directory is reopened), ValueError if the
        record exceeds ``record_bytes_max``, TypeError for writes that are not (bytes, bytes |
        None) tuples.
        """
        return int(self._j.append(commit_ts, writes))

    def wait_durable(self, lsn: int, timeout_s: float = 0.0) -> bool:
        """True once every record up to lsn is durable; waits at most timeout_s."""
        if timeout_s < 0:
            raise ValueError("timeout_s must be >= 0")
        return bool(self._j.wait_durable(lsn, int(timeout_s * 1e9)))

    def wait_spare_ready(self, timeout_s: float = 0.0) -> bool:
        """True once the next segment file is preallocated, so that a rollover would not wait
        for zero-filling; waits at most timeout_s. Always False without preallocation. For
        tests and benchmarks that want the steady state from their first append."""
        if timeout_s < 0:
            raise ValueError("timeout_s must be >= 0")
        return bool(self._j.wait_spare_ready(int(timeout_s * 1e9)))

    def drop_through(self, lsn: int) -> int:
        """Deletes whole segment files whose records all have lsn <= ``lsn`` (once a storage
        checkpoint covers them); the active segment always stays. Returns how many."""
        return int(self._j.drop_through(lsn))

    # -- reading -------------------------------------------------------------------------------
    def cursor(self, lsn: int) -> Cursor:
        """A cursor at lsn: ``next_batch(records_max, bytes_max)`` returns the durable records
        from there on, [] when caught up; call again later for more."""
        return self._j.read_from(lsn)

    def read_from(
        self, lsn: int, *, batch_records: int = 1024, batch_bytes: int = 8 << 20
    ) -> Iterator[list[Record]]:
        """Batches of durable records from lsn on, in lsn order, until caught up."""
        cursor = self._j.read_from(lsn)
        while True:
            batch: list[Record] = cursor.next_batch(batch_records, batch_bytes)
            if not batch:
                return
            yield batch

    def records_from(self, lsn: int) -> Iterator[Record]:
        """The records of read_from(lsn), one by one."""
        for batch in self.read_from(lsn):
            yield from batch

    # -- state ---------------------------------------------------------------------------------
    @property
    def path(self) -> str:
        return str(self._j.path)

    @property
    def durability(self) -> str:
        return str(self._j.durability)

    @property
    def preallocate(self) -> bool:
        """Whether segment files are preallocated (zero-filled ahead of need)."""
        return bool(self._j.preallocate)

    @property
    def durable_lsn(self) -> int:
        """The last durable lsn (0 when the journal has never had a record)."""
        return int(self._j.durable_lsn)

    @property
    def first_lsn(self) -> int:
        """The oldest lsn still in the journal (durable_lsn + 1 when it holds none)."""
        return int(self._j.first_lsn)

    @property
    def closed(self) -> bool:
        return bool(self._j.closed)

    def stats(self) -> JournalStats:
        return JournalStats(**self._j.stats())

    def segments(self) -> list[SegmentInfo]:
        return [SegmentInfo(**s) for s in self._j.segments()]

    def close(self) -> None:
        self._j.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"durable_lsn={self.durable_lsn}"
        return f"Journal({self.path!r}, durability={self.durability!r}, {state})"


def inspect(path: str | os.PathLike[str]) -> RecoveryReport:
    """What opening the journal at path would find and cut, without changing anything.

    Safe while another process has the journal open, but then a record being written may show
    as a torn tail.
    """
    return RecoveryReport.from_kernel(_k.inspect(os.fspath(path)))


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC32C (Castagnoli) of data, continuing from crc; the journal's record checksum."""
    return int(_k.crc32c(data, crc))
