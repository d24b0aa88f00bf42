"""A plain Python reference model of the multi-version store, for the store's tests.

Each key maps to its versions as a list of (commit_ts, value | None) sorted by commit_ts; a read
at ts takes the newest version at or before ts and None (a tombstone) reads as absent. It models
the GC rule (what survives gc(horizon)) so that key and version counts can be compared too, and
the horizon below which reads are refused. It is deliberately naive: obviously right, slow.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

Value = bytes | None


@dataclass
class RefStore:
    versions: dict[bytes, list[tuple[int, Value]]] = field(default_factory=dict)
    watermark: int = 0
    horizon: int | None = None  # None: nothing collected yet

    def apply(self, commit_ts: int, writes: list[tuple[bytes, Value]]) -> None:
        assert commit_ts > self.watermark
        for key, value in writes:
            chain = self.versions.setdefault(key, [])
            i = bisect.bisect_left([ts for ts, _ in chain], commit_ts)
            if i < len(chain) and chain[i][0] == commit_ts:
                chain[i] = (commit_ts, value)
            else:
                chain.insert(i, (commit_ts, value))

    def advance_watermark(self, ts: int) -> None:
        self.watermark = max(self.watermark, ts)

    def readable(self, ts: int) -> bool:
        return self.horizon is None or ts >= self.horizon

    def get(self, key: bytes, ts: int) -> Value:
        found: Value = None
        for vts, value in self.versions.get(key, []):
            if vts <= ts:
                found = value
        return found

    def rows(self, lo: bytes, hi: bytes, ts: int) -> list[tuple[bytes, bytes]]:
        """Visible rows of [lo, hi) at ts in key order (hi == b'' is unbounded)."""
        out = []
        for key in sorted(self.versions):
            if key < lo or (hi and key >= hi):
                continue
            value = self.get(key, ts)
            if value is not None:
                out.append((key, value))
        return out

    def gc(self, horizon: int) -> None:
        assert horizon <= self.watermark
        if self.horizon is not None and horizon <= self.horizon:
            return
        self.horizon = horizon
        for key in list(self.versions):
            chain = self.versions[key]
            newer = [(ts, v) for ts, v in chain if ts > horizon]
            older = [(ts, v) for ts, v in chain if ts <= horizon]
            kept = ([older[-1]] if older and older[-1][1] is not None else []) + newer
            if kept:
                self.versions[key] = kept
            else:
                del self.versions[key]

    def image(self, ts: int) -> RefStore:
        """What loading a checkpoint taken at ts gives: one version per visible row."""
        out = RefStore(watermark=ts, horizon=ts)
        for key, chain in self.versions.items():
            visible = [(vts, v) for vts, v in chain if vts <= ts]
            if visible and visible[-1][1] is not None:
                out.versions[key] = [visible[-1]]
        return out

    def counts(self) -> tuple[int, int]:
        """(keys, versions) as the store's stats() report them."""
        return len(self.versions), sum(len(c) for c in self.versions.values())
