"""Checkpoints from Python: round trip, and refusal of damaged files.

Goal: a checkpoint taken as of ts loads into an empty store that answers every read at ts like
the source; a corrupt, truncated, foreign or newer-format file is refused with CheckpointError
naming the file and a byte offset, and the target store is left untouched (still empty, same
watermark, and still able to load a good file afterwards). Method: a store with history and
deletes; damaged copies made by flipping bytes in every region, truncating, overwriting the
magic, and writing a newer format version with a correct header checksum (CRC-32C computed here
independently of the C++ code).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from dsql.errors import DsqlError
from dsql.storage.store import CheckpointError, MvccStore, SnapshotTooOld
from store_reference import RefStore


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def test_crc32c_reference_vector() -> None:
    assert crc32c(b"123456789") == 0xE3069283


@pytest.fixture()
def source() -> tuple[MvccStore, RefStore]:
    store, model = MvccStore(), RefStore()
    for ts in range(1, 31):
        writes = [(b"key%04d" % ((ts * 37 + i) % 500), None if (ts + i) % 7 == 0 else
                   bytes([65 + ts % 26]) * (3000 if i == 0 else 60)) for i in range(40)]
        writes = list(dict(writes).items())
        store.apply(ts, writes)
        model.apply(ts, writes)
    store.advance_watermark(30)
    model.advance_watermark(30)
    return store, model


def test_round_trip(source: tuple[MvccStore, RefStore], tmp_path: Path) -> None:
    store, model = source
    path = tmp_path / "s.ckpt"
    info = store.checkpoint(path, 20)
    assert info.ts == 20 and info.records == len(model.rows(b"", b"", 20)) and info.blocks > 1
    assert info.file_bytes == path.stat().st_size
    assert [p.name for p in tmp_path.iterdir()] == ["s.ckpt"]  # no temp file left behind
    loaded = MvccStore.from_checkpoint(str(path))
    assert loaded.watermark == 20 and loaded.horizon == 20
    assert list(loaded.scan_all(b"", b"", 20, batch=33)) == model.rows(b"", b"", 20)
    assert list(loaded.scan_all(b"", b"", 20, reverse=True)) == model.rows(b"", b"", 20)[::-1]
    with pytest.raises(SnapshotTooOld):
        loaded.get(b"key0001", 19)
    with pytest.raises(ValueError, match="not empty"):
        loaded.load(path)
    # Later commits replay on top, as the journal would.
    loaded.apply(21, [(b"key0001", b"new")])
    loaded.advance_watermark(21)
    assert loaded.get(b"key0001", 21) == b"new"


def _refused(data: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    target = MvccStore(initial_watermark=3)
    with pytest.raises(CheckpointError) as raised:
        target.load(path)
    message = str(raised.value)
    assert str(path) in message and "offset" in message, message
    stats = target.stats()
    assert (stats.keys, stats.versions, target.watermark) == (0, 0, 3)  # untouched
    return message


def test_corrupt_truncated_foreign_files_are_refused(source: tuple[MvccStore, RefStore],
                                                     tmp_path: Path) -> None:
    store, model = source
    good_path = tmp_path / "good.ckpt"
    store.checkpoint(good_path, 30)
    good = good_path.read_bytes()
    size = len(good)
    positions = [*range(0, 72), *range(size - 40, size), *range(72, size - 40, 1777)]
    for pos in positions:
        bad = bytearray(good)
        bad[pos] ^= 0x10
        _refused(bytes(bad), tmp_path, "flip.ckpt")
    for length in [0, 7, 8, 55, 56, 60, 300, size // 2, size - 32, size - 1]:
        message = _refused(good[:length], tmp_path, "short.ckpt")
        if length >= 8:
            assert "truncated" in message or "checksum" in message or "counts" in message, message
    assert "bad magic" in _refused(b"NOTDSQL!" + good[8:], tmp_path, "magic.ckpt")
    assert "after the trailer" in _refused(good + b"\0", tmp_path, "long.ckpt")

    newer = bytearray(good)
    struct.pack_into("<I", newer, 8, 2)
    struct.pack_into("<I", newer, 48, crc32c(bytes(newer[:48])))
    message = _refused(bytes(newer), tmp_path, "v2.ckpt")
    assert "unsupported checkpoint format version 2" in message

    # The refusals left nothing behind: a fresh store still loads the good file.
    loaded = MvccStore.from_checkpoint(good_path)
    assert list(loaded.scan_all(b"", b"", 30)) == model.rows(b"", b"", 30)


def test_checkpoint_errors(source: tuple[MvccStore, RefStore], tmp_path: Path) -> None:
    store, _ = source
    with pytest.raises(CheckpointError, match="cannot create") as raised:
        store.checkpoint(tmp_path / "missing-dir" / "x.ckpt", 30)
    assert isinstance(raised.value, DsqlError) and raised.value.sqlstate == "XX001"
    with pytest.raises(CheckpointError, match="cannot open"):
        MvccStore().load(tmp_path / "nope.ckpt")
    store.gc(25)
    with pytest.raises(SnapshotTooOld):
        store.checkpoint(tmp_path / "old.ckpt", 24)
    assert not os.path.exists(tmp_path / "old.ckpt")
    with pytest.raises(TypeError):
        store.checkpoint(12, 30)  # type: ignore[arg-type]
