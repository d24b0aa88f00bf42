"""Whole-node crash recovery: kill -9 under load, reopen, every acknowledged commit is there.

Method: a child process (node_crash_child.py) commits from several threads and prints an ack
after each durable commit; the parent kills it with SIGKILL after a random delay, reopens the
data directory in-process and checks that every acknowledged key is present with its value,
that nothing is half-applied (each present k<i> has its value), and that the node takes new
commits. Repeated for several rounds on one directory, so later rounds recover from
checkpoints, dropped segments and earlier recoveries.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from dsql.node.node import Node, NodeOptions

CHILD = Path(__file__).with_name("node_crash_child.py")
ROUNDS = int(os.environ.get("DSQL_NODE_CRASH_ROUNDS", "12"))


def run_child(path: Path, first: int, seconds: float) -> list[int]:
    proc = subprocess.Popen([sys.executable, str(CHILD), str(path), str(first), "3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, err
    return [int(line.split()[1]) for line in out.splitlines() if line.startswith("ack ")]


def test_acknowledged_commits_survive_sigkill(tmp_path: Path) -> None:
    rng = random.Random(20261127)
    path = tmp_path / "db"
    acked: set[int] = set()
    first = 0
    for _ in range(ROUNDS):
        acked.update(run_child(path, first, rng.uniform(0.6, 1.6)))
        with Node.open(path, NodeOptions(journal_segment_bytes=16384)) as node:
            ts = node.begin()
            rows = dict(node.scan_all(b"k", b"l", ts))
            present = {int(k[1:]) for k in rows}
            missing = acked - present
            assert not missing, f"acknowledged commits lost: {sorted(missing)[:10]}"
            for k, v in rows.items():
                assert v == b"v" + str(int(k[1:])).encode()
            ring = node.get_many([f"ring{j}".encode() for j in range(5)], ts)
            assert all(r is not None for r in ring) or not present
            first = max(present | acked | {first}) + 1000
    assert len(acked) > 50
