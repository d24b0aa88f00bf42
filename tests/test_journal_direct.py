"""Journal direct writes (O_DIRECT|O_DSYNC) from Python: the default durable path and its switch.

Goal: a durable journal writes its batches directly (no fdatasync) by default, the records read
back the same through a cursor, after a reopen and through an independent reader of the
documented format, and ``direct_writes=False`` gives the same records through write + fdatasync.
Method: two small fdatasync journals with tiny segments fed the same records (one direct, one
not), their stats, their records through ``records_from`` and through tests/journal_layout.py.
Where the temporary directory's filesystem refuses O_DIRECT the journal falls back per segment,
which the stats must then say.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dsql.journal import Journal

sys.path.insert(0, str(Path(__file__).parent))
from journal_layout import read_layout  # noqa: E402


def direct_io_supported(directory: Path) -> bool:
    probe = directory / "probe"
    try:
        fd = os.open(probe, os.O_CREAT | os.O_WRONLY | os.O_DIRECT, 0o644)
    except OSError:
        return False
    os.close(fd)
    probe.unlink()
    return True


def writes_for(i: int) -> list[tuple[bytes, bytes | None]]:
    value = b"v" * (i % 90) if i % 13 else b"w" * (4096 + i)  # some records span blocks
    return [(b"acct:%d" % i, value), (b"idx:%d" % i, None)]


def test_direct_and_buffered_journals_hold_the_same_records(tmp_path: Path) -> None:
    supported = direct_io_supported(tmp_path)
    records = 90
    for direct in (True, False):
        path = tmp_path / ("direct" if direct else "buffered")
        with Journal(path, segment_bytes=16384, direct_writes=direct) as j:
            j.wait_spare_ready(10.0)
            for i in range(1, records + 1):
                assert j.append(1000 + i, writes_for(i)) == i
            stats = j.stats()
            assert stats.syncs == stats.batches == records
            if direct:
                assert stats.direct_writes == (records if supported else 0)
                assert (stats.direct_fallbacks == 0) == supported
            else:
                assert stats.direct_writes == 0 and stats.direct_fallbacks == 0
            assert len(j.segments()) >= 3
    seen = {}
    for direct in (True, False):
        path = tmp_path / ("direct" if direct else "buffered")
        with Journal(path, segment_bytes=16384, direct_writes=direct) as j:
            assert j.recovery.clean
            got = [(lsn, ts, list(w)) for ts, lsn, w in j.records_from(1)]
        assert got == [(i, 1000 + i, writes_for(i)) for i in range(1, records + 1)]
        seen[direct] = [(loc.lsn, loc.commit_ts) for loc in read_layout(path)]
    assert seen[True] == seen[False] == [(i, 1000 + i) for i in range(1, records + 1)]
