"""An independent reader of the journal's on-disk format, written from docs/journal-format.md.

The crash and corruption tests use it to find where each record lives (to damage exactly the
bytes they mean to) and to check that the C++ writer follows the documented grammar.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from dsql.journal import crc32c

SEGMENT_HEADER = struct.Struct("<8sIIQQII")  # magic version flags seq first_lsn crc reserved
RECORD_HEADER = struct.Struct("<IIqQ")  # length checksum commit_ts lsn
MAGIC = b"DSQLJRNL"
VERSION = 2  # segments may end in a zero tail (preallocation)


@dataclass(frozen=True)
class RecordLoc:
    file: Path
    offset: int  # of the frame's first byte
    end: int  # one past its last byte
    lsn: int
    commit_ts: int


def segment_files(directory: Path) -> list[Path]:
    """The directory's segment files in lsn order (names are fixed-width hex)."""
    return sorted(p for p in directory.glob("journal-*.seg") if len(p.name) == 28)


def parse_payload(payload: bytes) -> list[tuple[bytes, bytes | None]]:
    (count,) = struct.unpack_from("<I", payload, 0)
    pos = 4
    writes: list[tuple[bytes, bytes | None]] = []
    for _ in range(count):
        key_len, value_len = struct.unpack_from("<II", payload, pos)
        pos += 8
        key = payload[pos : pos + key_len]
        pos += key_len
        if value_len == 0xFFFFFFFF:
            writes.append((key, None))
        else:
            writes.append((key, payload[pos : pos + value_len]))
            pos += value_len
    if pos != len(payload):
        raise ValueError("payload has bytes after its last write")
    return writes


def zero_tail_start(path: Path) -> int:
    """Where the file's zero tail begins: one past its last non-zero byte."""
    data = path.read_bytes()
    return len(data.rstrip(b"\x00"))


def read_layout(directory: Path) -> list[RecordLoc]:
    """Every valid record in order, stopping (quietly) at the first invalid byte. A segment's
    records end where only zero bytes are left in its file (the zero tail of a preallocated
    segment); a zero length field followed by anything non-zero is invalid."""
    out: list[RecordLoc] = []
    expect_lsn: int | None = None
    for path in segment_files(directory):
        data = path.read_bytes()
        if len(data) < SEGMENT_HEADER.size:
            return out
        magic, version, flags, _seq, first_lsn, crc, _ = SEGMENT_HEADER.unpack_from(data, 0)
        if magic != MAGIC or version != VERSION or flags != 0 or crc != crc32c(data[:32]):
            return out
        if expect_lsn is not None and first_lsn != expect_lsn:
            return out
        expect_lsn = first_lsn
        pos = SEGMENT_HEADER.size
        while pos + RECORD_HEADER.size <= len(data):
            if not any(data[pos:]):
                break  # the zero tail: the clean end of this segment's records
            length, checksum, commit_ts, lsn = RECORD_HEADER.unpack_from(data, pos)
            end = pos + RECORD_HEADER.size + length
            if length < 4 or end > len(data) or lsn != expect_lsn:
                return out
            payload = data[pos + RECORD_HEADER.size : end]
            if checksum != crc32c(struct.pack("<IqQ", length, commit_ts, lsn), crc32c(payload)):
                return out
            parse_payload(payload)
            out.append(RecordLoc(path, pos, end, lsn, commit_ts))
            expect_lsn += 1
            pos = end
        if any(data[pos:]):
            return out
    return out
