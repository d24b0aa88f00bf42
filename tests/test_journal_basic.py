"""Journal from Python: round trips, rollover, drop_through, reopen, cursors, API misuse.

Goal: the typed face (dsql.journal) returns exactly what was appended, in lsn order, across
segment files and reopens, with and without preallocated segments, and rejects misuse with clear
exceptions. Method: small journals with unsafe-no-sync durability (fast; durability itself is
covered by the crash tests), an independent reader of the documented format
(tests/journal_layout.py) to check the files, and a hypothesis state machine that runs random
appends, reopens, torn tails (cut short, or zeroed in place as in a preallocated file), drops and
reads against a plain-Python model, once with growing and once with preallocated segments.
"""

from __future__ import annotations

import logging
import random
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from dsql.journal import Journal, JournalError, crc32c, inspect

sys.path.insert(0, str(Path(__file__).parent))
from journal_layout import parse_payload, read_layout, segment_files  # noqa: E402

UNSAFE = "unsafe-no-sync"


def writes_for(ts: int) -> list[tuple[bytes, bytes | None]]:
    return [(b"k%d" % ts, b"v" * (ts % 50)), (b"\x00idx\xff%d" % ts, None)]


def test_round_trip_of_every_kind_of_write(tmp_path: Path) -> None:
    writes: list[tuple[bytes, bytes | None]] = [
        (b"", b"empty key"),
        (b"empty value", b""),
        (b"tombstone", None),
        (bytes(range(256)), bytes(range(255, -1, -1))),
        (b"big", b"x" * 100_000),
    ]
    with Journal(tmp_path / "j", durability=UNSAFE) as j:
        assert j.recovery.clean and j.recovery.next_lsn == 1
        assert j.recovery.last_commit_ts is None and j.durable_lsn == 0
        assert j.append(-7, writes) == 1
        assert j.append(3, []) == 2
        records = list(j.records_from(1))
    assert records == [(-7, 1, writes), (3, 2, [])]


def test_records_keep_lsn_order_not_commit_ts_order(tmp_path: Path) -> None:
    with Journal(tmp_path, durability=UNSAFE) as j:
        for ts in (30, 10, 20):
            j.append(ts, writes_for(ts))
    with Journal(tmp_path, durability=UNSAFE) as j:
        assert [r[0] for r in j.records_from(1)] == [30, 10, 20]
        assert j.recovery.last_commit_ts == 20
        assert j.recovery.max_commit_ts == 30
        assert j.recovery.first_lsn == 1 and j.recovery.last_lsn == 3
        assert j.append(40, []) == 4


def test_rollover_and_reading_across_segments(tmp_path: Path) -> None:
    with Journal(tmp_path, durability=UNSAFE, segment_bytes=1024) as j:
        for ts in range(1, 301):
            assert j.append(ts, writes_for(ts)) == ts
        segments = j.segments()
        assert len(segments) > 10
        assert all(s.bytes <= 1024 for s in segments)
        assert [s.seq for s in segments] == list(range(1, len(segments) + 1))
        assert j.stats().segments_created == len(segments)
        batches = list(j.read_from(1, batch_records=64))
        assert [len(b) for b in batches] == [64, 64, 64, 64, 44]
        assert [r[1] for b in batches for r in b] == list(range(1, 301))
        assert [r[2] for r in j.records_from(250)] == [writes_for(ts) for ts in range(250, 301)]
    # The files follow docs/journal-format.md, as read by an independent parser.
    layout = read_layout(tmp_path)
    assert [r.lsn for r in layout] == list(range(1, 301))
    assert [r.commit_ts for r in layout] == list(range(1, 301))
    assert [p.name for p in segment_files(tmp_path)] == [Path(s.path).name for s in segments]
    data = layout[5].file.read_bytes()[layout[5].offset + 24 : layout[5].end]
    assert parse_payload(data) == writes_for(6)


def test_drop_through_removes_whole_old_segments(tmp_path: Path) -> None:
    with Journal(tmp_path, durability=UNSAFE, segment_bytes=600) as j:
        for ts in range(1, 101):
            j.append(ts, writes_for(ts))
        segments = j.segments()
        keep_from = segments[3].first_lsn
        assert j.drop_through(keep_from) == 3  # segment 3 holds keep_from: it stays
        assert j.first_lsn == keep_from
        assert len(segment_files(tmp_path)) == len(segments) - 3
        with pytest.raises(JournalError, match="no longer in the journal"):
            list(j.read_from(1))
        assert [r[1] for r in j.records_from(keep_from)] == list(range(keep_from, 101))
        with pytest.raises(ValueError, match="past the durable end"):
            j.drop_through(101)
        assert j.drop_through(100) == len(segments) - 4  # all but the active segment
        assert j.stats().segments_dropped == len(segments) - 1
        first = j.first_lsn
    with Journal(tmp_path, durability=UNSAFE, segment_bytes=600) as j:
        assert j.recovery.clean and j.recovery.first_lsn == first
        assert j.append(101, []) == 101


def test_cursor_picks_up_later_appends(tmp_path: Path) -> None:
    with Journal(tmp_path, durability=UNSAFE) as j:
        cursor = j.cursor(1)
        assert cursor.next_batch() == []
        j.append(5, writes_for(5))
        assert cursor.next_batch() == [(5, 1, writes_for(5))]
        assert cursor.next_batch() == []
        j.append(6, writes_for(6))
        j.append(7, writes_for(7))
        assert [r[1] for r in cursor.next_batch(records_max=1)] == [2]
        assert cursor.next_lsn == 3
        assert j.wait_durable(3) and not j.wait_durable(4, timeout_s=0.01)


def test_misuse_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="durability"):
        Journal(tmp_path, durability="sometimes")  # type: ignore[arg-type]
    j = Journal(tmp_path, durability=UNSAFE, record_bytes_max=1000)
    with pytest.raises(JournalError, match="in use"):
        Journal(tmp_path)
    with pytest.raises(TypeError, match="must be bytes"):
        j.append(1, [("text", b"v")])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="bytes or None"):
        j.append(1, [(b"k", 5)])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="tuple"):
        j.append(1, [b"k"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        j.append(1, 5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="record limit"):
        j.append(1, [(b"k", b"x" * 2000)])
    assert j.durable_lsn == 0  # refused appends take no lsn
    with pytest.raises(ValueError):
        Journal(tmp_path / "other", segment_bytes=10)
    with pytest.raises(JournalError, match="cannot open journal directory"):
        Journal(tmp_path / "missing", create=False)
    j.close()
    assert j.closed and "closed" in repr(j)
    with pytest.raises(JournalError, match="closed"):
        j.append(1, [])
    j.close()  # idempotent
    with Journal(tmp_path, durability=UNSAFE) as again:  # the lock went with close()
        assert again.durability == UNSAFE


def test_crc32c_matches_vectors_and_a_python_reference() -> None:
    def reference(data: bytes) -> int:
        crc = 0xFFFFFFFF
        for byte in data:
            crc ^= byte
            for _ in range(8):
                crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        return crc ^ 0xFFFFFFFF

    from dsql._core import _kernels

    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(b"456789", crc32c(b"123")) == 0xE3069283
    rng = random.Random(7)
    for _ in range(50):
        data = rng.randbytes(rng.randint(0, 300))
        assert crc32c(data) == reference(data) == _kernels.journal.crc32c_portable(data)
    assert _kernels.journal.crc32c_implementation() in ("sse4.2", "table")


def test_inspect_reports_without_changing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with Journal(tmp_path, durability=UNSAFE) as j:
        for ts in range(1, 4):
            j.append(ts, writes_for(ts))
    seg = segment_files(tmp_path)[0]
    size = seg.stat().st_size
    with open(seg, "r+b") as f:
        f.truncate(size - 2)
    report = inspect(tmp_path)
    assert report.truncated and report.last_lsn == 2 and seg.stat().st_size == size - 2
    with caplog.at_level(logging.WARNING, logger="dsql.journal"):
        with Journal(tmp_path, durability=UNSAFE) as j:
            assert j.recovery == report
    assert any("truncated the file" in r.getMessage() for r in caplog.records)


def test_preallocation_defaults_and_spare(tmp_path: Path) -> None:
    with Journal(tmp_path / "unsafe", durability=UNSAFE) as j:
        assert not j.preallocate and not j.wait_spare_ready()
    with Journal(tmp_path / "synced", segment_bytes=4096) as j:  # fdatasync: on by default
        assert j.preallocate
        assert j.wait_spare_ready(timeout_s=10)
        assert (tmp_path / "synced" / "journal-spare.tmp").stat().st_size == 4096
        with pytest.raises(ValueError, match="timeout_s"):
            j.wait_spare_ready(-1)
        for ts in range(1, 200):
            j.append(ts, writes_for(ts))
        stats = j.stats()
        assert stats.segments_created >= 3 and stats.rollover_waits >= 0
        sizes = [Path(s.path).stat().st_size for s in j.segments()]
        assert sizes[1:] == [4096] * (len(sizes) - 1)  # the first was made at open, unfilled
    assert not (tmp_path / "synced" / "journal-spare.tmp").exists()
    assert [r.lsn for r in read_layout(tmp_path / "synced")] == list(range(1, 200))
    with Journal(tmp_path / "synced", segment_bytes=4096) as j:
        assert j.recovery.clean and j.recovery.spare_files == ()
        assert j.recovery.last_lsn == 199
    with Journal(tmp_path / "off", segment_bytes=4096, preallocate=False) as j:
        assert not j.preallocate
        j.append(1, writes_for(1))
    assert not (tmp_path / "off" / "journal-spare.tmp").exists()


# ---- model-based: random operations against a plain-Python model ------------------------------
class JournalModel(RuleBasedStateMachine):
    """The model: a list of (commit_ts, lsn, writes) and the oldest lsn still readable."""

    PREALLOCATE = False

    def __init__(self) -> None:
        super().__init__()
        import tempfile

        self.tmp = tempfile.TemporaryDirectory()
        self.path = Path(self.tmp.name)
        self.segment_bytes = 700
        self.j = self.open()
        self.records: list[tuple[int, int, list[tuple[bytes, bytes | None]]]] = []
        self.first_lsn = 1

    def open(self) -> Journal:
        j = Journal(self.path, durability=UNSAFE, segment_bytes=self.segment_bytes,
                    preallocate=self.PREALLOCATE)
        # Which segment a record lands in depends on whether a spare is ready (a short active
        # segment moves to it early): wait, so that the layout, and what hypothesis draws from
        # it (drop_through), is the same on every run.
        assert j.wait_spare_ready(timeout_s=10) == self.PREALLOCATE
        return j

    def teardown(self) -> None:
        self.j.close()
        self.tmp.cleanup()

    def last_frame_bytes(self) -> int:
        """The size of the last record's frame (docs/journal-format.md), from the model."""
        writes = self.records[-1][2]
        return 24 + 4 + sum(8 + len(k) + (len(v) if v is not None else 0) for k, v in writes)

    def reopen(self) -> None:
        self.j.close()
        self.j = self.open()

    @rule(ts=st.integers(-(2**63), 2**63 - 1),
          writes=st.lists(st.tuples(st.binary(max_size=40),
                                    st.one_of(st.none(), st.binary(max_size=200))), max_size=4))
    def append(self, ts: int, writes: list[tuple[bytes, bytes | None]]) -> None:
        lsn = self.j.append(ts, writes)
        assert lsn == len(self.records) + 1
        self.records.append((ts, lsn, writes))

    @rule()
    def reopen_clean(self) -> None:
        self.reopen()
        assert self.j.recovery.clean
        assert self.j.recovery.next_lsn == len(self.records) + 1
        assert self.j.recovery.last_lsn == self.last_present()

    def last_present(self) -> int:
        """The last lsn still in the journal (0 when drop_through took every record)."""
        return len(self.records) if len(self.records) >= self.first_lsn else 0

    @precondition(lambda self: len(self.records) >= self.first_lsn)  # a record to damage
    @rule(data=st.data())
    def crash_with_torn_tail(self, data: st.DataObject) -> None:
        """Cut the last record somewhere inside it: recovery drops exactly that record."""
        self.j.close()
        last = read_layout(self.path)[-1]
        assert last.lsn == len(self.records) and last.end - last.offset == self.last_frame_bytes()
        # Drawn relative to the record: where it sits depends on when a spare became ready.
        cut = last.offset + data.draw(st.integers(1, self.last_frame_bytes() - 1))
        with open(last.file, "r+b") as f:
            f.truncate(cut)
        self.j = self.open()
        r = self.j.recovery
        assert r.truncated and r.truncated_offset == last.offset
        assert Path(r.truncated_file).name == last.file.name
        self.records.pop()
        self.first_lsn = min(self.first_lsn, len(self.records) + 1)
        assert r.last_lsn == self.last_present() and r.next_lsn == len(self.records) + 1

    @precondition(lambda self: len(self.records) >= self.first_lsn)
    @rule(data=st.data())
    def crash_with_zeroed_tail(self, data: st.DataObject) -> None:
        """Zero the last record from some byte on, keeping the file's size (its later pages
        never reached the disk): the record is lost (unless those bytes were zeros already);
        the journal is damaged unless nothing of it is left but zeros (then it is as if never
        written)."""
        self.j.close()
        last = read_layout(self.path)[-1]
        assert last.lsn == len(self.records) and last.end - last.offset == self.last_frame_bytes()
        start = last.offset + data.draw(st.integers(0, self.last_frame_bytes() - 1))
        with open(last.file, "r+b") as f:
            f.seek(start)
            if not any(f.read(last.end - start)):
                self.j = self.open()  # nothing changes: the record stays
                assert self.j.recovery.clean
                return
            f.seek(start)
            f.write(bytes(last.end - start))
            f.seek(last.offset)
            left = f.read(last.end - last.offset)
        # Empty segments after the lost record (a rollover, then a cut) no longer continue the
        # chain: they are cut too.
        later = [f for f in segment_files(self.path) if f.name > last.file.name]
        self.j = self.open()
        r = self.j.recovery
        self.records.pop()
        self.first_lsn = min(self.first_lsn, len(self.records) + 1)
        assert r.last_lsn == self.last_present() and r.next_lsn == len(self.records) + 1
        assert r.clean == (not any(left) and not later)
        if any(left):
            assert r.truncated_offset == last.offset
            assert Path(r.truncated_file).name == last.file.name
        elif later:
            assert "breaks the sequence" in r.reason

    @precondition(lambda self: len(self.records) > 0)
    @rule(data=st.data())
    def drop_through(self, data: st.DataObject) -> None:
        lsn = data.draw(st.integers(0, len(self.records)))
        self.j.drop_through(lsn)
        first = self.j.first_lsn
        assert self.first_lsn <= first <= max(lsn + 1, self.first_lsn)
        self.first_lsn = first

    @rule(data=st.data())
    def read(self, data: st.DataObject) -> None:
        start = data.draw(st.integers(self.first_lsn, len(self.records) + 1))
        got = [r for batch in self.j.read_from(start, batch_records=3) for r in batch]
        assert got == self.records[start - 1 :]

    @invariant()
    def durable_end_matches(self) -> None:
        assert self.j.durable_lsn == len(self.records)
        assert self.j.first_lsn == self.first_lsn


class PreallocatedJournalModel(JournalModel):
    PREALLOCATE = True


MODEL_SETTINGS = settings(
    max_examples=40, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestJournalModel = JournalModel.TestCase
TestJournalModel.settings = MODEL_SETTINGS
TestPreallocatedJournalModel = PreallocatedJournalModel.TestCase
TestPreallocatedJournalModel.settings = MODEL_SETTINGS
