"""Journal group commit: durable appends/s for 1 and 64 committers, against the disk itself
and against SQLite.

Baselines measured in the same run, in the same directory:
  - the disk's own rate of small write + fdatasync, twice: appending to a growing file (each
    fdatasync must also commit the new file size, an ext4 journal commit) and overwriting a
    file already written full of zeros (fdatasync flushes data only). The second is the best
    one committer can get without group commit; the journal preallocates its segments to get it;
  - SQLite in WAL mode with synchronous=FULL, one single-row INSERT per commit (autocommit),
    from one Python thread: the journal's 1-committer rate is compared with it, from a C++
    thread and from a Python thread;
  - the 1-committer journal rate, which the 64-committer rate is compared with (target >= 10x:
    group commit lets 64 committers share each fdatasync).
Committers are measured twice: as C++ threads (the journal's own group commit: the target is
checked here) and as Python threads (the whole path from Python; with 64 threads the GIL's
hand-off after every acknowledged append caps the rate once the disk is fast).
Each journal's measurement starts once its next segment is preallocated (as in a journal that
has been open a while); `rollover_waits` in the extras counts rollovers that waited for
zero-filling during the run. Every acknowledged commit is checked durable at its ack
(durable_lsn >= lsn) and all are read back at the end. The unsafe-no-sync rates are reported
for context only: they measure the software path without the disk. The journal lives in a
temporary directory under $DSQL_BENCH_DIR (default: the system temp directory).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from dsql.bench.harness import Result

from dsql.journal import Durability, Journal

DESCRIPTION = ("journal group commit: appends/s for 1 and 64 committers vs the disk's fdatasync "
               "rate and SQLite WAL commits")

RECORD_WRITES: list[tuple[bytes, bytes | None]] = [
    (b"\x01table\x00\x00\x00\x2a", b"r" * 100),  # a row post-image
    (b"\x02index\x00name\x00\x2a", b""),  # an index entry
]


class DiskProbe:
    """Small writes, each followed by fdatasync, on a file in the journal's directory: appended
    to a growing file (`prezeroed` False) or written over a file already full of zeros."""

    FILE_BYTES = 64 << 20  # the journal's default segment size

    def __init__(self, directory: Path, prezeroed: bool) -> None:
        self.path = directory / ("overwrite-probe" if prezeroed else "append-probe")
        self.prezeroed = prezeroed
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | (0 if prezeroed else os.O_APPEND),
                          0o644)
        if prezeroed:
            zeros = bytes(1 << 20)
            for _ in range(self.FILE_BYTES >> 20):
                os.write(self.fd, zeros)
            os.fsync(self.fd)
        self.offset = 0
        self.count = 0
        self.elapsed = 0.0

    def run_for(self, seconds: float) -> None:
        record = b"x" * 150  # about one journal record of RECORD_WRITES
        start = time.perf_counter()
        deadline = start + seconds
        while time.perf_counter() < deadline:
            if self.prezeroed:
                if self.offset + len(record) > self.FILE_BYTES:
                    self.offset = 0
                os.pwrite(self.fd, record, self.offset)
                self.offset += len(record)
            else:
                os.write(self.fd, record)
            os.fdatasync(self.fd)
            self.count += 1
        self.elapsed += time.perf_counter() - start

    def finish(self) -> float:
        os.close(self.fd)
        self.path.unlink()
        return self.count / self.elapsed


class SqliteProbe:
    """SQLite, WAL mode, synchronous=FULL: one single-row INSERT per commit (autocommit)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "sqlite-probe.db"
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)")
        self.value = b"r" * 100
        self.next_key = 0
        self.count = 0
        self.elapsed = 0.0
        # Warm up past the first WAL checkpoint (1000 pages), so that the timed commits see the
        # steady state: a WAL that is overwritten from its start after each checkpoint.
        self._insert(2500)

    def _insert(self, n: int) -> None:
        execute = self.db.execute
        for _ in range(n):
            execute("INSERT INTO t VALUES (?, ?)", (self.next_key, self.value))
            self.next_key += 1

    def run_for(self, seconds: float) -> None:
        execute = self.db.execute
        value = self.value
        key = self.next_key
        start = time.perf_counter()
        deadline = start + seconds
        while time.perf_counter() < deadline:
            execute("INSERT INTO t VALUES (?, ?)", (key, value))
            key += 1
        self.elapsed += time.perf_counter() - start
        self.count += key - self.next_key
        self.next_key = key

    def finish(self) -> float:
        (rows,) = self.db.execute("SELECT count(*) FROM t").fetchone()
        self.db.close()
        if rows != self.next_key:
            raise AssertionError(f"sqlite holds {rows} rows, {self.next_key} were committed")
        return self.count / self.elapsed


def steady_state(journal: Journal) -> int:
    """Waits until the journal's next segment is preallocated (when it preallocates), so that
    timing starts with appends into zero-filled segments, as in a journal that has been open
    for a while (a new journal's first segment is not preallocated: open does not wait).
    Returns the number of records it appended."""
    wait = getattr(journal, "wait_spare_ready", None)  # absent in builds before preallocation
    if wait is None or not journal.preallocate:
        return 0
    if not wait(30.0):
        raise AssertionError("the journal's spare segment was not ready within 30 s")
    journal.append(0, RECORD_WRITES)  # the first segment (not preallocated) takes one record;
    journal.append(0, RECORD_WRITES)  # this one moves to the preallocated spare
    if not wait(30.0):
        raise AssertionError("the journal's next spare segment was not ready within 30 s")
    return 2


class AppendLoad:
    """`committers` threads appending to one journal, run in timed slices."""

    def __init__(self, path: Path, committers: int, durability: Durability) -> None:
        self.journal = Journal(path, durability=durability)
        self.warmup = steady_state(self.journal)
        self.committers = committers
        self.count = 0
        self.elapsed = 0.0
        self.late = 0
        self.slices = 0

    def run_for(self, seconds: float) -> None:
        journal = self.journal
        counts = [0] * self.committers
        late = [0] * self.committers
        stop = threading.Event()
        start_line = threading.Barrier(self.committers + 1)
        first_ts = self.slices << 40

        def committer(t: int) -> None:
            append = journal.append
            ts = first_ts + (t << 32)
            n = 0
            start_line.wait()
            while not stop.is_set():
                lsn = append(ts + n, RECORD_WRITES)
                if journal.durable_lsn < lsn:
                    late[t] += 1
                n += 1
            counts[t] = n

        threads = [threading.Thread(target=committer, args=(t,)) for t in range(self.committers)]
        for th in threads:
            th.start()
        start_line.wait()
        start = time.perf_counter()
        time.sleep(seconds)
        stop.set()
        for th in threads:
            th.join()
        self.elapsed += time.perf_counter() - start
        self.count += sum(counts)
        self.late += sum(late)
        self.slices += 1

    def finish(self) -> tuple[float, dict[str, float]]:
        """appends/s over all slices, after checking every ack was durable and is readable."""
        stats = self.journal.stats()
        read_back = sum(len(batch) for batch in self.journal.read_from(1))
        self.journal.close()
        total = self.count + self.warmup
        if self.late or read_back != total or stats.appends != total:
            raise AssertionError(
                f"durability check failed: {self.late} acks before durable, {read_back} records "
                f"read back, {stats.appends} appended, {total} acknowledged"
            )
        extra = {
            "committers": self.committers,
            "appends": self.count,
            "syncs": stats.syncs,
            "mean_batch_records": round(stats.mean_batch_records, 2),
            "max_batch_records": stats.max_batch_records,
            "seconds": round(self.elapsed, 3),
            "rollover_waits": getattr(stats, "rollover_waits", None),
        }
        return self.count / self.elapsed, extra


class KernelAppendLoad:
    """`committers` C++ threads appending to one journal (Journal._append_load)."""

    def __init__(self, path: Path, committers: int) -> None:
        self.journal = Journal(path, durability="fdatasync")
        self.warmup = steady_state(self.journal)
        self.committers = committers
        self.count = 0
        self.elapsed_ns = 0
        self.late = 0
        self.slices = 0

    def run_for(self, seconds: float) -> None:
        appends, elapsed_ns, late = self.journal._j._append_load(
            self.committers, int(seconds * 1e9), (self.slices + 1) << 48, RECORD_WRITES)
        self.count += appends
        self.elapsed_ns += elapsed_ns
        self.late += late
        self.slices += 1

    def finish(self) -> tuple[float, dict[str, float]]:
        stats = self.journal.stats()
        read_back = sum(len(batch) for batch in self.journal.read_from(1))
        self.journal.close()
        if self.late or read_back != self.count + self.warmup:
            raise AssertionError(f"durability check failed: {self.late} acks before durable, "
                                 f"{read_back} read back of {self.count + self.warmup}")
        extra = {"committers": self.committers, "appends": self.count, "syncs": stats.syncs,
                 "mean_batch_records": round(stats.mean_batch_records, 2),
                 "rollover_waits": getattr(stats, "rollover_waits", None), "threads": "C++"}
        return self.count / (self.elapsed_ns / 1e9), extra


def run(quick: bool) -> list[Result]:
    # The disk's speed drifts with whatever else the machine is doing, so the durable
    # measurements run in interleaved slices and are compared over the same stretch of time.
    rounds, slice_s = (10, 0.2) if quick else (25, 0.4)
    base = os.environ.get("DSQL_BENCH_DIR") or None
    with tempfile.TemporaryDirectory(prefix="dsql-bench-journal-", dir=base) as tmp:
        directory = Path(tmp)
        append_probe = DiskProbe(directory, prezeroed=False)
        overwrite_probe = DiskProbe(directory, prezeroed=True)
        sqlite_probe = SqliteProbe(directory)
        one_load = AppendLoad(directory / "j1", 1, "fdatasync")
        many_load = AppendLoad(directory / "j64", 64, "fdatasync")
        kernel_one_load = KernelAppendLoad(directory / "k1", 1)
        kernel_many_load = KernelAppendLoad(directory / "k64", 64)
        for _ in range(rounds):
            append_probe.run_for(slice_s)
            overwrite_probe.run_for(slice_s)
            sqlite_probe.run_for(slice_s)
            kernel_one_load.run_for(slice_s)
            kernel_many_load.run_for(slice_s)
            one_load.run_for(slice_s)
            many_load.run_for(slice_s)
        disk_append = append_probe.finish()
        disk = overwrite_probe.finish()
        sqlite_wal = sqlite_probe.finish()
        one, one_extra = one_load.finish()
        many, many_extra = many_load.finish()
        kernel_one, kernel_one_extra = kernel_one_load.finish()
        kernel_many, kernel_many_extra = kernel_many_load.finish()
        unsafe_one_load = AppendLoad(directory / "u1", 1, "unsafe-no-sync")
        unsafe_many_load = AppendLoad(directory / "u64", 64, "unsafe-no-sync")
        for _ in range(2):
            unsafe_one_load.run_for(slice_s)
            unsafe_many_load.run_for(slice_s)
        unsafe_one, unsafe_one_extra = unsafe_one_load.finish()
        unsafe_many, unsafe_many_extra = unsafe_many_load.finish()
    where = {"directory": base or tempfile.gettempdir(), "rounds": rounds, "slice_s": slice_s}
    return [
        Result("journal.disk.write_fdatasync.growing_file", disk_append, "syncs/s",
               better="higher", baseline=disk, baseline_name="disk, over a zero-filled file",
               extra=where),
        Result("journal.disk.write_fdatasync.zero_filled_file", disk, "syncs/s",
               better="higher", extra=where),
        Result("sqlite.wal_sync_full.1_row_commit", sqlite_wal, "commits/s", better="higher",
               baseline=disk, baseline_name="disk, over a zero-filled file",
               extra={"threads": "Python"}),
        Result("journal.append.fdatasync.1_committer", kernel_one, "appends/s",
               better="higher", baseline=disk,
               baseline_name="disk write+fdatasync/s, zero-filled file",
               target="close to the disk's rate", meets_target=kernel_one >= 0.8 * disk,
               extra=kernel_one_extra),
        Result("journal.append.fdatasync.1_committer.vs_sqlite", kernel_one, "appends/s",
               better="higher", baseline=sqlite_wal,
               baseline_name="sqlite WAL synchronous=FULL commits/s",
               target=">= sqlite's rate", meets_target=kernel_one >= sqlite_wal,
               extra={"threads": "C++"}),
        Result("journal.append.fdatasync.64_committers", kernel_many, "appends/s",
               better="higher", baseline=kernel_one, baseline_name="journal, 1 committer",
               target=">= 10x 1 committer", meets_target=kernel_many >= 10 * kernel_one,
               extra=kernel_many_extra),
        Result("journal.append.fdatasync.1_committer.python", one, "appends/s",
               better="higher", baseline=sqlite_wal,
               baseline_name="sqlite WAL synchronous=FULL commits/s (Python)",
               extra={**one_extra, "disk_ratio": round(one / disk, 3)}),
        Result("journal.append.fdatasync.64_committers.python", many, "appends/s",
               better="higher", baseline=one, baseline_name="journal, 1 Python committer",
               extra=many_extra),
        Result("journal.append.unsafe_no_sync.1_committer", unsafe_one, "appends/s",
               better="higher", baseline=one, baseline_name="journal fdatasync, 1 committer",
               extra=unsafe_one_extra),
        Result("journal.append.unsafe_no_sync.64_committers", unsafe_many, "appends/s",
               better="higher", baseline=unsafe_one,
               baseline_name="journal unsafe-no-sync, 1 committer", extra=unsafe_many_extra),
    ]
