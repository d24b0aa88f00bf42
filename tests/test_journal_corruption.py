"""Journal corruption: flipped bytes, truncated tails and stray files, as seen on open and by
readers.

Goal: recovery stops at the first damaged record with a message naming the file, the offset and
the reason; every record before it survives; nothing after it is visible; stray files are
ignored and reported (our documented choice); damage found later by a reader raises
JournalCorruption. With preallocated segments, a zero tail after the last record is the clean
end, while a torn record followed by zeros, zeros followed by records, and damage inside a zero
tail are damage; a leftover spare is removed without being damage; a segment of another format
version refuses the open. Method: build a multi-segment journal (growing, and preallocated),
locate each record with the independent format reader (tests/journal_layout.py), damage exactly
the bytes meant, reopen.
"""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

import pytest

from dsql.journal import Journal, JournalCorruption, JournalError, crc32c, inspect

sys.path.insert(0, str(Path(__file__).parent))
from journal_layout import read_layout, segment_files, zero_tail_start  # noqa: E402

UNSAFE = "unsafe-no-sync"
SEGMENT_BYTES = 2048


def writes_for(ts: int) -> list[tuple[bytes, bytes | None]]:
    return [(b"row-%d" % ts, b"%d" % ts * (ts % 23)), (b"gone-%d" % ts, None)]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pristine")
    with Journal(path, durability=UNSAFE, segment_bytes=SEGMENT_BYTES) as j:
        for ts in range(1, 121):
            j.append(ts, writes_for(ts))
        assert len(j.segments()) >= 4
    return path


def copy_of(pristine: Path, tmp_path: Path) -> Path:
    path = tmp_path / "j"
    shutil.copytree(pristine, path)
    return path


def flip(path: Path, offset: int) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x40]))


def check_survivors(j: Journal, count: int) -> None:
    got = list(j.records_from(1))
    assert [r[1] for r in got] == list(range(1, count + 1))
    assert all(writes == writes_for(ts) for ts, _, writes in got)


def test_flipped_byte_in_the_middle_stops_recovery_there(pristine: Path, tmp_path: Path) -> None:
    path = copy_of(pristine, tmp_path)
    layout = read_layout(path)
    files = segment_files(path)
    victim = [r for r in layout if r.file == files[1]][3]
    flip(victim.file, (victim.offset + victim.end) // 2)
    with Journal(path, durability=UNSAFE, segment_bytes=SEGMENT_BYTES) as j:
        r = j.recovery
        assert r.truncated and not r.clean
        assert Path(r.truncated_file).name == victim.file.name
        assert r.truncated_offset == victim.offset
        assert "checksum mismatch" in r.reason
        assert r.messages[0].startswith(f"{victim.file.name} offset {victim.offset}: checksum")
        assert f"lsn {victim.lsn}" in r.messages[0]
        assert r.last_lsn == victim.lsn - 1
        assert [Path(p).name for p in r.dropped_files] == [p.name for p in files[2:]]
        check_survivors(j, victim.lsn - 1)
        assert j.append(999, writes_for(999)) == victim.lsn  # goes on after the cut
    with Journal(path, durability=UNSAFE, segment_bytes=SEGMENT_BYTES) as j:
        assert j.recovery.clean


def test_flipped_byte_anywhere(pristine: Path, tmp_path: Path) -> None:
    """Random positions in every file, headers included: recovery always stops at the record
    (or segment header) that holds the byte, and keeps everything before it."""
    layout = read_layout(pristine)
    rng = random.Random(11)
    for i in range(40):
        path = copy_of(pristine, tmp_path / str(i))
        files = segment_files(path)
        target = rng.choice(files)
        offset = rng.randrange(target.stat().st_size)
        flip(target, offset)
        in_file = [r for r in layout if r.file.name == target.name]
        hit = next((r for r in in_file if r.offset <= offset < r.end), None)
        first_lost = hit.lsn if hit else in_file[0].lsn  # a header byte loses the whole file
        with Journal(path, durability=UNSAFE, segment_bytes=SEGMENT_BYTES) as j:
            r = j.recovery
            assert r.truncated
            assert Path(r.truncated_file).name == target.name
            assert r.truncated_offset == (hit.offset if hit else 0)
            assert r.last_lsn == first_lost - 1, (target.name, offset, r.messages)
            assert r.messages[0].startswith(f"{target.name} offset {r.truncated_offset}: ")
            check_survivors(j, first_lost - 1)


def test_truncated_tail_is_cut_cleanly(pristine: Path, tmp_path: Path) -> None:
    path = copy_of(pristine, tmp_path)
    last = read_layout(path)[-1]
    with open(last.file, "r+b") as f:
        f.truncate(last.end - 7)
    with Journal(path, durability=UNSAFE, segment_bytes=SEGMENT_BYTES) as j:
        r = j.recovery
        assert r.truncated and r.truncated_offset == last.offset
        assert r.truncated_bytes == last.end - 7 - last.offset
        assert "cut short" in r.reason and not r.dropped_files
        check_survivors(j, last.lsn - 1)
    assert last.file.stat().st_size == last.offset
    assert inspect(path).clean


def test_stray_files_are_ignored_with_a_message(pristine: Path, tmp_path: Path) -> None:
    """Our choice: a file whose name is not a journal name is left alone and reported; a file
    named like a segment is part of the journal, so garbage in it is cut like any damage."""
    path = copy_of(pristine, tmp_path)
    (path / "notes.txt").write_text("not a segment")
    (path / "journal-0000000000000001.seg~").write_bytes(b"editor backup")
    with Journal(path, durability=UNSAFE, segment_bytes=SEGMENT_BYTES) as j:
        assert j.recovery.clean
        assert j.recovery.ignored_files == ("journal-0000000000000001.seg~", "notes.txt")
        assert any("ignored notes.txt" in m for m in j.recovery.messages)
        check_survivors(j, 120)
        end = j.durable_lsn
    junk = path / f"journal-{end + 1:016x}.seg"
    junk.write_bytes(b"\x00" * 100)
    with Journal(path, durability=UNSAFE, segment_bytes=SEGMENT_BYTES) as j:
        assert "bad magic" in j.recovery.reason
        assert j.recovery.dropped_files == (str(junk),)
        check_survivors(j, 120)
    assert (path / "notes.txt").exists() and not junk.exists()


def test_a_reader_meeting_damage_raises_journal_corruption(pristine: Path, tmp_path: Path) -> None:
    path = copy_of(pristine, tmp_path)
    layout = read_layout(path)
    with Journal(path, durability=UNSAFE, segment_bytes=SEGMENT_BYTES) as j:
        victim = layout[50]
        flip(victim.file, victim.offset + 30)  # damage a durable record under the open journal
        with pytest.raises(JournalCorruption) as info:
            list(j.records_from(1))
        assert f"{victim.file} offset {victim.offset}: checksum mismatch" in str(info.value)
        assert isinstance(info.value, RuntimeError)


# ---- preallocated segments ------------------------------------------------------------------
@pytest.fixture(scope="module")
def pristine_prealloc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pristine-prealloc")
    with Journal(path, durability=UNSAFE, segment_bytes=SEGMENT_BYTES, preallocate=True) as j:
        assert j.wait_spare_ready(timeout_s=10)
        for ts in range(1, 121):
            j.append(ts, writes_for(ts))
        assert len(j.segments()) >= 4
    return path


def open_prealloc(path: Path) -> Journal:
    return Journal(path, durability=UNSAFE, segment_bytes=SEGMENT_BYTES, preallocate=True)


def zero(path: Path, start: int, end: int) -> None:
    with open(path, "r+b") as f:
        f.seek(start)
        f.write(bytes(end - start))


def test_a_zero_tail_is_the_clean_end(pristine_prealloc: Path, tmp_path: Path) -> None:
    path = copy_of(pristine_prealloc, tmp_path)
    layout = read_layout(path)
    assert [r.lsn for r in layout] == list(range(1, 121))
    files = segment_files(path)
    for f in files[1:]:  # the first was made at open, before the spare was ready
        assert f.stat().st_size == SEGMENT_BYTES
        assert zero_tail_start(f) == max(r.end for r in layout if r.file == f)
    with open_prealloc(path) as j:
        assert j.recovery.clean and j.recovery.messages == ()
        check_survivors(j, 120)
    assert inspect(path).clean


def test_a_torn_record_followed_by_zeros_is_cut(pristine_prealloc: Path, tmp_path: Path) -> None:
    path = copy_of(pristine_prealloc, tmp_path)
    last = read_layout(path)[-1]
    zero(last.file, (last.offset + last.end) // 2, last.end)  # its second half never landed
    size = last.file.stat().st_size
    with open_prealloc(path) as j:
        r = j.recovery
        assert r.truncated and r.truncated_offset == last.offset
        assert "checksum mismatch" in r.reason
        assert r.truncated_bytes == size - last.offset
        check_survivors(j, last.lsn - 1)
        assert j.append(999, writes_for(999)) == last.lsn
    with open_prealloc(path) as j:
        assert j.recovery.clean and j.recovery.last_lsn == last.lsn


def test_a_wholly_zeroed_last_record_was_never_written(
    pristine_prealloc: Path, tmp_path: Path
) -> None:
    """Nothing of the record reached the disk: indistinguishable from no record, so clean."""
    path = copy_of(pristine_prealloc, tmp_path)
    last = read_layout(path)[-1]
    zero(last.file, last.offset, last.end)
    with open_prealloc(path) as j:
        assert j.recovery.clean
        check_survivors(j, last.lsn - 1)


def test_zeros_in_the_middle_are_damage_not_skipped(
    pristine_prealloc: Path, tmp_path: Path
) -> None:
    path = copy_of(pristine_prealloc, tmp_path)
    layout = read_layout(path)
    files = segment_files(path)
    in_file = [r for r in layout if r.file == files[2]]
    assert len(in_file) >= 3
    victim = in_file[1]  # valid records follow it in the same file
    zero(victim.file, victim.offset, victim.end)
    with open_prealloc(path) as j:
        r = j.recovery
        assert r.truncated and r.truncated_offset == victim.offset
        assert Path(r.truncated_file).name == victim.file.name
        assert "zero-filled gap" in r.reason
        assert f"non-zero bytes follow at offset {victim.end}" in r.reason
        assert [Path(p).name for p in r.dropped_files] == [p.name for p in files[3:]]
        check_survivors(j, victim.lsn - 1)  # the records after the gap are not skipped to


def test_flipped_byte_anywhere_in_preallocated_files(
    pristine_prealloc: Path, tmp_path: Path
) -> None:
    """Random positions, zero tails included: a byte flipped in a tail is damage at the tail's
    start (the records before it survive, later files go)."""
    layout = read_layout(pristine_prealloc)
    rng = random.Random(12)
    for i in range(40):
        path = copy_of(pristine_prealloc, tmp_path / str(i))
        files = segment_files(path)
        target = rng.choice(files)
        in_file = [r for r in layout if r.file.name == target.name]
        tail = in_file[-1].end
        size = target.stat().st_size
        # Half the time, a byte of the zero tail (the first file has none).
        tail_hit = size > tail and rng.random() < 0.5
        offset = rng.randrange(tail, size) if tail_hit else rng.randrange(size)
        flip(target, offset)
        hit = next((r for r in in_file if r.offset <= offset < r.end), None)
        if offset < 40:
            where, first_lost = 0, in_file[0].lsn
        elif hit is None:
            where, first_lost = tail, in_file[-1].lsn + 1
        else:
            where, first_lost = hit.offset, hit.lsn
        with open_prealloc(path) as j:
            r = j.recovery
            assert r.truncated, (target.name, offset)
            assert Path(r.truncated_file).name == target.name
            assert r.truncated_offset == where, (target.name, offset, r.messages)
            assert r.last_lsn == first_lost - 1
            check_survivors(j, first_lost - 1)


def test_a_leftover_spare_is_removed_and_is_not_damage(
    pristine_prealloc: Path, tmp_path: Path
) -> None:
    path = copy_of(pristine_prealloc, tmp_path)
    spare = path / "journal-spare.tmp"
    spare.write_bytes(bytes(700))  # a crash while it was being zero-filled
    report = inspect(path)
    assert report.clean and report.spare_files == (str(spare),) and spare.exists()
    with open_prealloc(path) as j:
        assert j.recovery.clean and j.recovery.spare_files == (str(spare),)
        assert j.recovery.ignored_files == ()
        assert "removed journal-spare.tmp" in j.recovery.messages[0]
        check_survivors(j, 120)
    assert not spare.exists()


def test_another_format_version_refuses_to_open(pristine: Path, tmp_path: Path) -> None:
    path = copy_of(pristine, tmp_path)
    first = segment_files(path)[0]
    data = bytearray(first.read_bytes())
    data[8:12] = (1).to_bytes(4, "little")  # version 1, with a valid header checksum
    data[32:36] = crc32c(bytes(data[:32])).to_bytes(4, "little")
    first.write_bytes(bytes(data))
    before = {p.name: p.read_bytes() for p in segment_files(path)}
    with pytest.raises(JournalError, match="format version 1"):
        Journal(path, durability=UNSAFE)
    with pytest.raises(JournalError, match="another build"):
        inspect(path)
    assert {p.name: p.read_bytes() for p in segment_files(path)} == before
