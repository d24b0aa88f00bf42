"""Hand-written list-append histories with the checker's exact verdict and anomalies.

Goal: every anomaly class the checker knows (G0, G1a, G1b, G1c, G-single, G-nonadjacent,
G2-item, internal, incompatible-order, duplicate-elements, garbage-read, lost-update,
realtime) has a minimal history whose classification a reviewer can verify by hand, plus
histories that must NOT be flagged (write skew, concurrent transactions, unread failed or
indeterminate appends). Method: tests/testdata/elle/*.txt holds blocks

    history <name>
    <txn> <ok|fail|info> [@<invoke>-<complete> | @<invoke>] <mop> ...
    ----
    <expected output lines>

where a mop is `x+1` (append 1 to key x), `x=[1,2]` (read x, got [1, 2]), `x=[]`, or `x=?`
(read, value unknown). Without times each transaction's invoke and completion are adjacent,
in file order; with times (on every line of the block) ops are ordered by time. The output
is `valid yes|no` (SI), `strong yes|no` (real time), then one line per anomaly, sorted:
`<class>: T1 -ww-> T2 -ww-> T1` for a cycle (starting at its first-listed transaction) or
`<class>: T2, T1` for the transactions a non-cycle anomaly names. DSQL_REWRITE=1 rewrites the
expected output in place; review the diff before committing it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from dsql.verify.elle import check
from dsql.verify.history import APPEND, INVOKE, READ, MicroOp, Op

DATA = Path(__file__).parent / "testdata" / "elle"
MOP = re.compile(r"^(\w+)(?:\+(-?\d+)|=(\[[-\d, ]*\]|\?))$")


@dataclass
class Case:
    name: str
    txn_lines: list[str]
    expected: list[str]
    header_at: int  # index of the `history` line in the file's lines
    end_at: int  # index one past the last expected line


def parse(lines: list[str]) -> list[Case]:
    cases: list[Case] = []
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if not line or line.startswith("#"):
            i += 1
            continue
        assert line.startswith("history "), f"line {i + 1}: expected 'history <name>'"
        start, name = i, line.split(None, 1)[1]
        i += 1
        txns = []
        while lines[i].strip() != "----":
            txns.append(lines[i].strip())
            i += 1
        i += 1
        expected = []
        while i < len(lines) and lines[i].strip():
            expected.append(lines[i].strip())
            i += 1
        cases.append(Case(name, txns, expected, start, i))
    return cases


def _mop(token: str) -> MicroOp:
    m = MOP.match(token)
    assert m, f"bad micro-op {token!r}"
    key, appended, read = m.groups()
    if appended is not None:
        return MicroOp(APPEND, key, int(appended))
    if read == "?":
        return MicroOp(READ, key, None)
    return MicroOp(READ, key, tuple(int(x) for x in read.strip("[]").split(",") if x.strip()))


def build(case: Case) -> tuple[list[Op], dict[int, str], list[str]]:
    """The history, txn id -> name, and the names in file order."""
    events: list[tuple[float, int, int, Op]] = []  # (time, kind, line, op without index)
    names: list[str] = []
    timed = [" @" in f" {t}" for t in case.txn_lines]
    assert all(timed) or not any(timed), f"{case.name}: times on all lines or none"
    for n, line in enumerate(case.txn_lines):
        tokens = line.split()
        name, kind, rest = tokens[0], tokens[1], tokens[2:]
        names.append(name)
        invoke_ns = complete_ns = None
        if rest and rest[0].startswith("@"):
            span = rest.pop(0)[1:].split("-")
            invoke_ns = int(span[0])
            complete_ns = int(span[1]) if len(span) > 1 else None
        mops = [_mop(t) for t in rest]
        blank = [m if m.f == APPEND else MicroOp(READ, m.key, None) for m in mops]
        t_inv = float(invoke_ns) if invoke_ns is not None else 2.0 * n
        t_done = float(complete_ns) if complete_ns is not None else (
            float("inf") if invoke_ns is not None else 2.0 * n + 1)
        events.append((t_inv, 0, n, Op(0, INVOKE, tuple(blank), n, time_ns=invoke_ns)))
        events.append((t_done, 1, n, Op(0, kind, tuple(mops), n, time_ns=complete_ns)))
    events.sort(key=lambda e: (e[0], e[2], e[1]))
    ops, id_to_name = [], {}
    for index, (_, k, n, op) in enumerate(events):
        ops.append(Op(index, op.type, op.value, op.process, time_ns=op.time_ns))
        if k == 1:
            id_to_name[index] = names[n]
    return ops, id_to_name, names


def run(case: Case) -> list[str]:
    ops, name_of, names = build(case)
    result = check(ops)
    out = [f"valid {'yes' if result.valid else 'no'}",
           f"strong {'yes' if result.strong_valid else 'no'}"]
    lines = []
    for a in result.anomalies:
        if a.steps:
            steps = list(a.steps)
            first = min(range(len(steps)), key=lambda i: names.index(name_of[steps[i].src]))
            steps = steps[first:] + steps[:first]
            path = " ".join(f"{name_of[s.src]} -{s.kind}->" for s in steps)
            lines.append(f"{a.type}: {path} {name_of[steps[0].src]}")
        else:
            lines.append(f"{a.type}: " + ", ".join(name_of[t] for t in a.txns))
    return out + sorted(lines)


FILES = sorted(DATA.glob("*.txt"))
CASES = [(f, c) for f in FILES for c in parse(f.read_text().splitlines())]


def test_every_class_has_a_case() -> None:
    from dsql.verify.anomalies import ALL_TYPES
    seen = {line.split(":")[0] for _, c in CASES for line in c.expected if ":" in line}
    assert ALL_TYPES <= seen, ALL_TYPES - seen


@pytest.mark.parametrize("path,case", CASES, ids=[c.name for _, c in CASES])
def test_case(path: Path, case: Case) -> None:
    got = run(case)
    if os.environ.get("DSQL_REWRITE") == "1":
        lines = path.read_text().splitlines()
        now = next(c for c in parse(lines) if c.name == case.name)  # earlier rewrites move it
        start = lines.index("----", now.header_at) + 1
        lines[start:now.end_at] = got
        path.write_text("\n".join(lines) + "\n")
        return
    assert got == case.expected, "\n".join(["got:", *got])
