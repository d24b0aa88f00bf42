"""Journal under concurrency: many Python threads committing at once.

Goal: with fdatasync durability, concurrent appends from many threads each get a unique lsn, the
lsns are contiguous, every record is durable when its append returns, appends share fdatasyncs
(group commit), readers can follow, and close() lets in-flight appends finish. Method: threads
append records whose contents derive from (thread, i); the main thread checks acks against the
journal read back, and against a reopen. The group-commit check is made deterministic with a
leader wait (group_wait_ns) that ends as soon as the whole batch has arrived.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dsql.journal import Journal, JournalError


def writes_for(ts: int) -> list[tuple[bytes, bytes | None]]:
    return [(b"t%d" % ts, b"%d" % ts * (1 + ts % 7))]


def run_threads(count: int, target: object) -> None:
    threads = [threading.Thread(target=target, args=(t,)) for t in range(count)]  # type: ignore[arg-type]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_many_threads_unique_contiguous_durable(tmp_path: Path) -> None:
    threads, per_thread = 32, 25
    acks: dict[int, int] = {}
    late: list[int] = []
    lock = threading.Lock()
    j = Journal(tmp_path, segment_bytes=16384)  # fdatasync

    def committer(t: int) -> None:
        for i in range(per_thread):
            ts = t * 1000 + i
            lsn = j.append(ts, writes_for(ts))
            if j.durable_lsn < lsn:
                late.append(lsn)
            with lock:
                assert lsn not in acks
                acks[lsn] = ts

    run_threads(threads, committer)
    total = threads * per_thread
    assert not late, "an append returned before its record was durable"
    assert sorted(acks) == list(range(1, total + 1))
    got = {lsn: (ts, writes) for ts, lsn, writes in j.records_from(1)}
    assert got == {lsn: (ts, writes_for(ts)) for lsn, ts in acks.items()}
    stats = j.stats()
    assert stats.appends == total and stats.syncs == stats.batches <= total
    j.close()
    with Journal(tmp_path) as again:
        assert again.recovery.clean and again.recovery.last_lsn == total


def test_one_fdatasync_is_shared_by_a_whole_batch(tmp_path: Path) -> None:
    """Eight appenders released together; the leader waits (up to 1 s, but only until all
    eight have queued) and writes them with one writev and one fdatasync."""
    barrier = threading.Barrier(8)
    with Journal(tmp_path, batch_records_max=8, group_wait_ns=999_999_999) as j:
        def committer(t: int) -> None:
            barrier.wait()
            j.append(t, writes_for(t))

        run_threads(8, committer)
        stats = j.stats()
        assert stats.appends == 8
        assert stats.batches == stats.syncs
        assert stats.max_batch_records == 8 and stats.batches == 1


def test_readers_follow_concurrent_appends(tmp_path: Path) -> None:
    with Journal(tmp_path, durability="unsafe-no-sync", segment_bytes=4096) as j:
        total = 8 * 200
        seen: list[int] = []
        errors: list[BaseException] = []

        def reader() -> None:
            try:
                cursor = j.cursor(1)
                while len(seen) < total:
                    for ts, lsn, writes in cursor.next_batch(64):
                        assert lsn == len(seen) + 1 and writes == writes_for(ts)
                        seen.append(lsn)
                    j.wait_durable(len(seen) + 1, timeout_s=0.05)
            except BaseException as e:  # reported to the main thread
                errors.append(e)

        r = threading.Thread(target=reader)
        r.start()
        run_threads(8, lambda t: [j.append(t * 10_000 + i, writes_for(t * 10_000 + i))
                                  for i in range(200)])
        r.join(timeout=60)
        assert not errors and not r.is_alive()
        assert seen == list(range(1, total + 1))


def test_close_lets_queued_appends_finish(tmp_path: Path) -> None:
    j = Journal(tmp_path)
    acks: list[int] = []
    lock = threading.Lock()
    started = threading.Barrier(9)

    def committer(t: int) -> None:
        started.wait()
        i = 0
        while True:
            try:
                lsn = j.append(t * 100_000 + i, writes_for(i))
            except JournalError as e:
                assert "closed" in str(e)
                return
            with lock:
                acks.append(lsn)
            i += 1

    threads = [threading.Thread(target=committer, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    started.wait()
    while len(acks) < 50:
        j.wait_durable(len(acks) + 1, timeout_s=0.01)
    j.close()
    for t in threads:
        t.join()
    with Journal(tmp_path) as again:
        assert again.recovery.clean
        assert set(acks) <= set(range(1, again.durable_lsn + 1))
        assert again.durable_lsn == len(acks)  # every appended record was acknowledged


@pytest.mark.parametrize("durability", ["fdatasync", "unsafe-no-sync"])
def test_tiny_queue_and_batches_still_correct(tmp_path: Path, durability: str) -> None:
    with Journal(tmp_path, durability=durability,  # type: ignore[arg-type]
                 batch_records_max=1, queue_records_max=2) as j:
        run_threads(6, lambda t: [j.append(t * 100 + i, []) for i in range(20)])
        assert j.durable_lsn == 120
        assert j.stats().max_batch_records == 1
        assert sorted(r[0] for r in j.records_from(1)) == sorted(
            t * 100 + i for t in range(6) for i in range(20))
