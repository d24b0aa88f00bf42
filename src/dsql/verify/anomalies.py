"""Anomaly classes, dependency-edge kinds, and how a cycle's edges classify it.

Edge kinds between committed transactions (Adya's direct serialization graph):

- ``ww`` T1 -> T2: T2 appended the element right after T1's on some key (write-write);
- ``wr`` T1 -> T2: T2 read a list whose last (external) element T1 appended (write-read);
- ``rw`` T1 -> T2: T1 read a version of a key, T2 appended the next element (anti-dependency);
- ``rt`` T1 -> T2: T1 was acknowledged before T2 was invoked (real time; strong SI only).

``ww``, ``wr`` and ``rt`` are *dependencies* (D); ``rw`` is the one kind snapshot isolation
lets run "backwards". A history is SI exactly when every cycle has two *adjacent* rw edges
(Cerone & Gotsman, "Analysing snapshot isolation", 2016: ((WR u WW) ; RW?) is acyclic). Cycle
classes, from worst:

    G0              only ww edges                              (dirty write)
    G1c             ww and wr edges, at least one wr           (circular information flow)
    G-single        exactly one rw edge                        (read skew, lost update)
    G-nonadjacent   two or more rw edges, no two adjacent      (also impossible under SI)
    G2-item         two or more rw edges, some two adjacent    (write skew: allowed by SI)

Adjacency is cyclic: the last edge is adjacent to the first. A cycle through an ``rt`` edge
that SI would otherwise forbid is reported as ``realtime``.

Invariants: 1. classify() is total on non-empty kind sequences over EDGE_KINDS;
2. SI_FORBIDDEN and STRONG_FORBIDDEN never contain G2-item.
Thread-safety: immutable data and pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WW, WR, RW, RT = "ww", "wr", "rw", "rt"
EDGE_KINDS = (WW, WR, RT, RW)  # the order in which a search prefers kinds on a multi-kind edge
DEPENDENCY_KINDS = frozenset((WW, WR, RT))

G0, G1A, G1B, G1C = "G0", "G1a", "G1b", "G1c"
G_SINGLE, G_NONADJACENT, G2_ITEM = "G-single", "G-nonadjacent", "G2-item"
INTERNAL, INCOMPATIBLE_ORDER = "internal", "incompatible-order"
DUPLICATE_ELEMENTS, GARBAGE_READ, LOST_UPDATE = "duplicate-elements", "garbage-read", "lost-update"
REALTIME = "realtime"

CYCLE_CLASSES = (G0, G1C, G_SINGLE, G_NONADJACENT, G2_ITEM)
# Anomalies that make a history invalid under snapshot isolation. Besides Adya's classes, any
# observation no SI execution could produce (reads that disagree on a key's order, a read of a
# value nobody wrote, two transactions that both extended the same version) is a violation.
SI_FORBIDDEN = frozenset((G0, G1A, G1B, G1C, G_SINGLE, G_NONADJACENT, INTERNAL,
                          INCOMPATIBLE_ORDER, DUPLICATE_ELEMENTS, GARBAGE_READ, LOST_UPDATE))
STRONG_FORBIDDEN = SI_FORBIDDEN | {REALTIME}
ALL_TYPES = STRONG_FORBIDDEN | {G2_ITEM}


@dataclass(frozen=True)
class Step:
    """One edge of a reported cycle: `src` -kind-> `dst`, with why the edge exists."""

    src: int
    kind: str
    dst: int
    why: str

    def arrow(self) -> str:
        return f"T{self.src} -{self.kind}-> T{self.dst}"


@dataclass(frozen=True)
class Anomaly:
    """One finding. `txns` are the transactions involved (by id); `steps` the cycle, if any."""

    type: str
    txns: tuple[int, ...]
    description: str
    steps: tuple[Step, ...] = ()

    def render(self) -> str:
        """Human-readable, several lines: the class and summary, then one line per edge."""
        lines = [f"{self.type}: {self.description}"]
        if self.steps:
            path = " ".join(f"T{s.src} -{s.kind}->" for s in self.steps)
            lines.append(f"  cycle: {path} T{self.steps[0].src}")
            lines.extend(f"    {s.arrow()}: {s.why}" for s in self.steps)
        return "\n".join(lines)


def has_adjacent_rw(kinds: Sequence[str]) -> bool:
    """True if two cyclically consecutive kinds are both rw. REQUIRES: kinds non-empty."""
    assert kinds, "a cycle has at least one edge"
    n = len(kinds)
    return any(kinds[i] == RW and kinds[(i + 1) % n] == RW for i in range(n))


def si_forbidden_cycle(kinds: Sequence[str]) -> bool:
    """True if snapshot isolation forbids a cycle with these edge kinds (rt counts as D)."""
    assert all(k in EDGE_KINDS for k in kinds), kinds
    return not has_adjacent_rw(kinds)


def classify(kinds: Sequence[str]) -> str:
    """The class of a cycle given the kind chosen for each of its edges, in cycle order.

    >>> classify(["ww", "rw", "rw"])
    'G2-item'
    """
    assert kinds and all(k in EDGE_KINDS for k in kinds), kinds
    if RT in kinds and si_forbidden_cycle(kinds):
        return REALTIME
    rw_count = sum(1 for k in kinds if k == RW)
    if rw_count == 0:
        return G0 if all(k == WW for k in kinds) else G1C
    if rw_count == 1:
        return G_SINGLE
    return G2_ITEM if has_adjacent_rw(kinds) else G_NONADJACENT
