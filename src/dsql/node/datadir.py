"""The layout of a data directory.

    <dir>/
      dsql.json                      {"format": 1, "created_unix": ...}: marks a data directory
      horizon.json                   {"format": 1, "ts": H}: snapshots up to H may have been
                                     served; every commit after a restart orders above H
      journal/                       the journal's segments and LOCK (docs/journal-format.md)
      checkpoints/
        ckpt-<ts:020d>/              one checkpoint, complete once its manifest exists
          shard-<i>.ckpt             storage shard i as of ts (docs/checkpoint-format.md)
          manifest.json              {"format": 1, "ts", "replay_lsn", "shards": [...]}

A checkpoint directory without a manifest is an interrupted checkpoint and is ignored (and
removed by the next checkpoint). The manifest is written last, through a temporary file, fsync
and rename, followed by an fsync of the directory.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from dsql.errors import DsqlError

FORMAT = 1


class DataDirectoryError(DsqlError):
    """The data directory is not one dsql can use."""

    sqlstate = "58030"  # io_error


@dataclass(frozen=True)
class ShardFile:
    lower: bytes  # the shard's first key
    file: str  # file name inside the checkpoint directory


@dataclass(frozen=True)
class Manifest:
    ts: int
    replay_lsn: int
    shards: tuple[ShardFile, ...]
    path: Path  # the checkpoint directory

    def to_json(self) -> str:
        return json.dumps({
            "format": FORMAT,
            "ts": self.ts,
            "replay_lsn": self.replay_lsn,
            "shards": [{"lower": s.lower.hex(), "file": s.file} for s in self.shards],
        }, indent=1)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(path: Path, text: str) -> None:
    """Writes a small file atomically: temp file, fsync, rename, fsync of the directory."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


class DataDirectory:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.journal = root / "journal"
        self.checkpoints = root / "checkpoints"

    @classmethod
    def open(cls, root: str | os.PathLike[str], *, create: bool = True) -> DataDirectory:
        path = Path(root)
        marker = path / "dsql.json"
        if marker.exists():
            try:
                info = json.loads(marker.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise DataDirectoryError(f"{marker} is unreadable: {e}") from e
            if info.get("format") != FORMAT:
                raise DataDirectoryError(
                    f"{path} has data directory format {info.get('format')!r}; "
                    f"this dsql reads format {FORMAT}")
        elif path.exists() and any(path.iterdir()):
            raise DataDirectoryError(
                f"{path} is not empty and is not a dsql data directory (no dsql.json)")
        elif not create:
            raise DataDirectoryError(f"{path} does not exist")
        else:
            path.mkdir(parents=True, exist_ok=True)
            write_durably(marker, json.dumps({"format": FORMAT, "created_unix": time.time()}))
        d = cls(path)
        d.checkpoints.mkdir(exist_ok=True)
        return d

    @property
    def horizon_file(self) -> Path:
        return self.root / "horizon.json"

    def read_horizon(self) -> int:
        """The promise horizon last written (0 when none was): reads at timestamps up to it
        may have been served before the last shutdown or crash."""
        path = self.horizon_file
        if not path.exists():
            return 0
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            ts = int(raw["ts"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise DataDirectoryError(f"{path} is unreadable: {e}") from e
        if raw.get("format") != FORMAT or ts < 0:
            raise DataDirectoryError(f"{path} is not a promise horizon of format {FORMAT}")
        return ts

    def write_horizon(self, ts: int, *, durable: bool) -> None:
        """Replaces the promise horizon atomically (fsynced unless `durable` is False)."""
        assert ts >= 0, ts
        text = json.dumps({"format": FORMAT, "ts": ts})
        if durable:
            write_durably(self.horizon_file, text)
        else:
            tmp = self.horizon_file.with_name("horizon.json.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, self.horizon_file)

    def checkpoint_dir(self, ts: int) -> Path:
        return self.checkpoints / f"ckpt-{ts:020d}"

    def manifests(self) -> list[Manifest]:
        """Complete checkpoints, newest first; unreadable manifests are skipped."""
        found: list[Manifest] = []
        for d in self.checkpoints.glob("ckpt-*"):
            manifest = d / "manifest.json"
            try:
                raw = json.loads(manifest.read_text(encoding="utf-8"))
                found.append(Manifest(
                    ts=int(raw["ts"]),
                    replay_lsn=int(raw["replay_lsn"]),
                    shards=tuple(ShardFile(bytes.fromhex(s["lower"]), str(s["file"]))
                                 for s in raw["shards"]),
                    path=d,
                ))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        found.sort(key=lambda m: m.ts, reverse=True)
        return found

    def remove_checkpoints(self, keep: list[Manifest]) -> None:
        """Deletes every checkpoint directory except those in `keep`."""
        kept = {m.path for m in keep}
        for d in self.checkpoints.glob("ckpt-*"):
            if d not in kept:
                shutil.rmtree(d, ignore_errors=True)
        fsync_dir(self.checkpoints)
