"""Journal crash safety: kill -9 a committing process at random moments, many times.

Goal: after every crash and reopen, every acknowledged commit is in the journal exactly once, in
lsn order, with its exact writes, and nothing partial is visible (an unacknowledged record may be
present or absent, but whole). Method: a child process (tests/journal_crash_child.py) appends
from several threads to one journal directory with fdatasync durability and tiny segments (so
rollovers happen under fire) and reports each acknowledged (lsn, commit_ts) on a pipe; the parent
SIGKILLs it after a random delay (sometimes before it even opened the journal, so recovery itself
is interrupted). Segments are preallocated (fdatasync durability), so kills also land while the
next segment is being zero-filled or renamed into place. A SIGKILL rarely tears a write() and
the page cache survives it, so in half the rounds the parent also plays a power loss: after the
last acknowledged record it cuts the journal at a random point, or zeroes a random range (in a
preallocated file, pages that never reached the disk read back as zeros), sometimes leaving
garbage, and truncates or removes later segment files, as an unsynced tail may legally suffer.
Then it reopens the journal and checks everything acknowledged so far, over all rounds. The loop
stops after ~20 s (at least 5 rounds); set DSQL_JOURNAL_CRASH_ROUNDS and
DSQL_JOURNAL_CRASH_SECONDS for a longer run. A second test kills the child while a large spare
segment is being zero-filled.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from dsql.journal import Journal

sys.path.insert(0, str(Path(__file__).parent))
from journal_crash_child import TS_STRIDE, expected_writes  # noqa: E402
from journal_layout import read_layout, segment_files  # noqa: E402

CHILD = Path(__file__).parent / "journal_crash_child.py"
ROUNDS = int(os.environ.get("DSQL_JOURNAL_CRASH_ROUNDS", "40"))
SECONDS = float(os.environ.get("DSQL_JOURNAL_CRASH_SECONDS", "20"))


def run_child_until_killed(path: Path, first_ts: int, rng: random.Random,
                           segment_bytes: int | None = None,
                           max_delay_s: float = 0.25) -> list[tuple[int, int]]:
    """Starts the child, kills it with SIGKILL at a random moment, returns its acks."""
    segment_bytes = segment_bytes or rng.choice([4096, 16384, 65536])
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(path), str(rng.choice([1, 4, 8])), str(first_ts),
         str(segment_bytes)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None
    if rng.random() < 0.15:
        time.sleep(rng.uniform(0.0, 0.12))  # may land in startup or recovery
    else:
        ready = child.stdout.readline()
        assert ready.startswith(b"ready"), ready + child.stderr.read()  # type: ignore[union-attr]
        time.sleep(rng.uniform(0.0, max_delay_s))
    child.send_signal(signal.SIGKILL)
    out, err = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, err.decode(errors="replace")
    acks = []
    for line in out.splitlines():
        if line.startswith(b"ready"):
            continue
        lsn, ts = line.split()
        acks.append((int(lsn), int(ts)))
    return acks


def lose_unsynced_tail(path: Path, acked_max_lsn: int, rng: random.Random) -> None:
    """Damages only what follows the last acknowledged record, as a power loss could."""
    files = segment_files(path)
    if not files:
        return
    first_file, start = files[0], 0
    for rec in read_layout(path):
        if rec.lsn == acked_max_lsn:
            first_file, start = rec.file, rec.end
    later = files[files.index(first_file) :]
    victim = rng.choice(later)
    size = victim.stat().st_size
    lo = start if victim == first_file else 0
    if size <= lo:
        return
    cut = rng.randint(lo, size)
    with open(victim, "r+b") as f:
        if rng.random() < 0.5:
            f.truncate(cut)
        else:  # unsynced pages of a preallocated file read back as zeros; the size stays
            f.seek(cut)
            f.write(bytes(rng.randint(0, size - cut)))
        if rng.random() < 0.3:
            f.seek(cut)
            f.write(rng.randbytes(rng.randint(1, 64)))
    for other in later[later.index(victim) + 1 :]:
        if rng.random() < 0.5:
            other.unlink()
        else:
            os.truncate(other, rng.randint(0, other.stat().st_size))


def check_journal(path: Path, acked: dict[int, int]) -> int:
    """Reopens (recovers) the journal and checks it against every ack so far; returns the
    number of records."""
    with Journal(path) as j:
        seen_ts: set[int] = set()
        expect_lsn = 1
        for commit_ts, lsn, writes in j.records_from(1):
            assert lsn == expect_lsn, f"lsn {lsn} where {expect_lsn} was expected"
            assert commit_ts not in seen_ts, f"commit_ts {commit_ts} appears twice"
            seen_ts.add(commit_ts)
            assert writes == expected_writes(commit_ts), f"record lsn {lsn} is not whole"
            if lsn in acked:
                assert acked[lsn] == commit_ts, f"lsn {lsn} holds another commit"
            expect_lsn += 1
        records = expect_lsn - 1
        missing = [lsn for lsn in acked if lsn > records]
        assert not missing, f"acknowledged lsns lost: {missing[:10]} (journal ends at {records})"
        assert j.durable_lsn == records
        return records


def test_acknowledged_commits_survive_sigkill(tmp_path: Path) -> None:
    rng = random.Random(20240607)
    path = tmp_path / "journal"
    acked: dict[int, int] = {}
    deadline = time.monotonic() + SECONDS
    rounds = 0
    records = 0
    truncations = 0
    while rounds < ROUNDS and (rounds < 5 or time.monotonic() < deadline):
        first_ts = (rounds + 1) * 100 * TS_STRIDE
        for lsn, ts in run_child_until_killed(path, first_ts, rng):
            assert acked.setdefault(lsn, ts) == ts, f"lsn {lsn} acknowledged twice"
        if rng.random() < 0.5:
            lose_unsynced_tail(path, max(acked, default=0), rng)
            truncations += 1
        records = check_journal(path, acked)
        rounds += 1
    assert rounds >= 5
    assert len(acked) > 0 and records >= len(acked)


def test_a_crash_while_a_segment_is_preallocated(tmp_path: Path) -> None:
    """Goal: a kill while the spare (the next segment) is being zero-filled, or is being given
    its header and renamed, loses no acknowledged commit, and the spare it leaves is removed on
    open without being reported as damage. Method: the crash child with 8 MiB segments (a
    spare takes a while to fill) killed soon after it opened the journal; the spare seen in
    the directory before reopening must be in recovery.spare_files, and gone afterwards."""
    rng = random.Random(7)
    path = tmp_path / "journal"
    acked: dict[int, int] = {}
    spares_seen = 0
    for round_ in range(6):
        first_ts = (round_ + 1) * 100 * TS_STRIDE
        for lsn, ts in run_child_until_killed(path, first_ts, rng, segment_bytes=8 << 20,
                                              max_delay_s=0.08):
            assert acked.setdefault(lsn, ts) == ts
        spare = path / "journal-spare.tmp"
        had_spare = spare.exists()
        spares_seen += had_spare
        with Journal(path, segment_bytes=8 << 20) as j:
            r = j.recovery
            assert r.spare_files == ((str(spare),) if had_spare else ())
            assert not r.truncated or "spare" not in r.reason
        assert not spare.exists()
        check_journal(path, acked)
    assert spares_seen >= 1  # the spare exists from open until close: a kill leaves it behind


FAILING_DISK_CHILD = r"""
import json, resource, signal, sys, threading
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
from dsql.journal import Journal, JournalError
j = Journal(sys.argv[1], segment_bytes=1 << 20)
resource.setrlimit(resource.RLIMIT_FSIZE, (30_000, resource.RLIM_INFINITY))
acked, errors, lock = [], [], threading.Lock()
def committer(t):
    i = 0
    while True:
        try:
            lsn = j.append(t * 100_000 + i, [(b"k%d" % i, b"v" * 333)])
        except JournalError as e:
            with lock:
                errors.append(str(e))
            return
        with lock:
            acked.append(lsn)
        i += 1
threads = [threading.Thread(target=committer, args=(t,)) for t in range(4)]
for t in threads: t.start()
for t in threads: t.join()
try:
    j.append(1, [])
    later = ""
except JournalError as e:
    later = str(e)
print(json.dumps({"acked": acked, "errors": errors, "later": later}))
"""


def test_a_failing_disk_fails_appends_until_reopen(tmp_path: Path) -> None:
    """Goal: when a write fails (here: EFBIG from RLIMIT_FSIZE, mid-record), no append is
    acknowledged that is not durable, every later append fails clearly, and reopening recovers
    every acknowledged record. Method: a child process with a file-size limit appends from four
    threads until they all fail; the parent reopens the journal."""
    import json

    path = tmp_path / "journal"
    done = subprocess.run([sys.executable, "-c", FAILING_DISK_CHILD, str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    acked = report["acked"]
    assert len(report["errors"]) == 4 and acked
    assert all("cannot write" in e or "has failed" in e for e in report["errors"])
    assert "has failed" in report["later"]
    with Journal(path) as j:
        assert j.recovery.last_lsn >= max(acked)
        assert sorted(acked) == list(range(1, len(acked) + 1))
        assert [r[1] for r in j.records_from(1)] == list(range(1, j.recovery.last_lsn + 1))
