"""Journal group commit: durable appends/s for 1 and 64 committers, against the disk itself.

Baselines measured in the same run, in the same directory:
  - the disk's own rate of small write + fdatasync on an appended file (what one committer
    could get at best without group commit);
  - the 1-committer journal rate, which the 64-committer rate is compared with (target >= 10x:
    group commit lets 64 committers share each fdatasync).
Every acknowledged commit is checked durable at its ack (durable_lsn >= lsn) and all are read
back at the end. The unsafe-no-sync rates are reported for context only: they measure the
software path without the disk. The journal lives in a temporary directory under
$DSQL_BENCH_DIR (default: the system temp directory).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

from dsql.bench.harness import Result

from dsql.journal import Durability, Journal

DESCRIPTION = "journal group commit: appends/s for 1 and 64 committers vs the disk's fdatasync rate"

RECORD_WRITES: list[tuple[bytes, bytes | None]] = [
    (b"\x01table\x00\x00\x00\x2a", b"r" * 100),  # a row post-image
    (b"\x02index\x00name\x00\x2a", b""),  # an index entry
]


def fdatasync_rate(directory: Path, seconds: float) -> float:
    """Small appends, each followed by fdatasync, on a file in directory: per second."""
    path = directory / "fdatasync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        n = 0
        start = time.perf_counter()
        deadline = start + seconds
        record = b"x" * 150
        while time.perf_counter() < deadline:
            os.write(fd, record)
            os.fdatasync(fd)
            n += 1
        return n / (time.perf_counter() - start)
    finally:
        os.close(fd)
        path.unlink()


def append_rate(directory: Path, name: str, committers: int, seconds: float,
                durability: Durability) -> tuple[float, dict[str, float]]:
    """appends/s with `committers` threads appending for `seconds`, and batch statistics."""
    path = directory / name
    journal = Journal(path, durability=durability)
    counts = [0] * committers
    late = [0]
    stop = threading.Event()
    start_line = threading.Barrier(committers + 1)

    def committer(t: int) -> None:
        append = journal.append
        start_line.wait()
        ts = t << 32
        n = 0
        while not stop.is_set():
            lsn = append(ts + n, RECORD_WRITES)
            if journal.durable_lsn < lsn:
                late[0] += 1
            n += 1
        counts[t] = n

    threads = [threading.Thread(target=committer, args=(t,)) for t in range(committers)]
    for th in threads:
        th.start()
    start_line.wait()
    start = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - start
    total = sum(counts)
    stats = journal.stats()
    read_back = sum(len(batch) for batch in journal.read_from(1))
    journal.close()
    if late[0] or read_back != total or stats.appends != total:
        raise AssertionError(
            f"durability check failed: {late[0]} acks before durable, {read_back} records read "
            f"back, {stats.appends} appended, {total} acknowledged"
        )
    extra = {
        "committers": committers,
        "appends": total,
        "syncs": stats.syncs,
        "mean_batch_records": round(stats.mean_batch_records, 2),
        "max_batch_records": stats.max_batch_records,
        "seconds": round(elapsed, 3),
    }
    return total / elapsed, extra


def run(quick: bool) -> list[Result]:
    seconds = 2.0 if quick else 6.0
    base = os.environ.get("DSQL_BENCH_DIR") or None
    with tempfile.TemporaryDirectory(prefix="dsql-bench-journal-", dir=base) as tmp:
        directory = Path(tmp)
        disk = fdatasync_rate(directory, seconds)
        one, one_extra = append_rate(directory, "j1", 1, seconds, "fdatasync")
        many, many_extra = append_rate(directory, "j64", 64, seconds, "fdatasync")
        unsafe_one, unsafe_one_extra = append_rate(directory, "u1", 1, seconds / 2,
                                                   "unsafe-no-sync")
        unsafe_many, unsafe_many_extra = append_rate(directory, "u64", 64, seconds / 2,
                                                     "unsafe-no-sync")
    where = {"directory": base or tempfile.gettempdir()}
    return [
        Result("journal.disk.write_fdatasync", disk, "syncs/s", better="higher", extra=where),
        Result("journal.append.fdatasync.1_committer", one, "appends/s", better="higher",
               baseline=disk, baseline_name="disk write+fdatasync/s", extra=one_extra),
        Result("journal.append.fdatasync.64_committers", many, "appends/s", better="higher",
               baseline=one, baseline_name="journal, 1 committer", target=">= 10x 1 committer",
               meets_target=many >= 10 * one, extra=many_extra),
        Result("journal.append.unsafe_no_sync.1_committer", unsafe_one, "appends/s",
               better="higher", baseline=one, baseline_name="journal fdatasync, 1 committer",
               extra=unsafe_one_extra),
        Result("journal.append.unsafe_no_sync.64_committers", unsafe_many, "appends/s",
               better="higher", baseline=unsafe_one,
               baseline_name="journal unsafe-no-sync, 1 committer", extra=unsafe_many_extra),
    ]
