"""Child process for the journal crash tests (tests/test_journal_crash.py).

Opens the journal at argv[1] and appends from several threads until killed. Each record's
writes derive from its commit_ts (see ``expected_writes``) so the parent can check a record is
whole. After each append returns (the record is durable), the thread reports "lsn commit_ts" on
stdout with one os.write (atomic on a pipe), so every reported line is an acknowledged commit.

    python tests/journal_crash_child.py DIR THREADS FIRST_TS SEGMENT_BYTES
"""

from __future__ import annotations

import os
import sys
import threading

from dsql.journal import Journal

TS_STRIDE = 10_000_000  # commit_ts ranges per thread do not overlap


def expected_writes(commit_ts: int) -> list[tuple[bytes, bytes | None]]:
    """The writes of the record with this commit_ts: sizes vary, some are large (so a kill can
    land inside a multi-page write), and some writes are tombstones."""
    size = (commit_ts * 7919) % 600
    if commit_ts % 37 == 0:
        size = 40_000 + commit_ts % 5000
    key = b"row/%d" % commit_ts
    value = (b"%d:" % commit_ts) * (size // 8 + 1)
    writes: list[tuple[bytes, bytes | None]] = [(key, value[:size])]
    if commit_ts % 3 == 0:
        writes.append((b"idx/%d" % (commit_ts % 1000), None))
    return writes


def main() -> None:
    path, threads, first_ts, segment_bytes = (
        sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    )
    journal = Journal(path, segment_bytes=segment_bytes)
    os.write(1, b"ready %d\n" % journal.durable_lsn)

    def appender(t: int) -> None:
        ts = first_ts + t * TS_STRIDE
        while True:  # until SIGKILL
            lsn = journal.append(ts, expected_writes(ts))
            os.write(1, b"%d %d\n" % (lsn, ts))
            ts += 1

    workers = [threading.Thread(target=appender, args=(t,), daemon=True) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


if __name__ == "__main__":
    main()
