"""Child process for tests/test_node_crash.py: commits until killed, acknowledging each commit.

Usage: python node_crash_child.py DATADIR FIRST_INDEX THREADS

Each thread commits transactions that write key ``k<i>`` = ``v<i>`` and move a shared ring of
5 rows; after commit() returns (the record is durable), it prints ``ack <i>`` on stdout. Every
97th commit of thread 0 takes a checkpoint, so kills also land during checkpoints and journal
segment drops.
"""

from __future__ import annotations

import sys
import threading

from dsql.adjudicator import CommitConflict, Kind
from dsql.node.node import Node, NodeOptions


def main() -> None:
    path, first, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    node = Node.open(path, NodeOptions(journal_segment_bytes=16384))
    lock = threading.Lock()
    counter = [first]

    def next_index() -> int:
        with lock:
            counter[0] += 1
            return counter[0]

    def work(tid: int) -> None:
        n = 0
        while True:
            i = next_index()
            key = f"k{i:08d}".encode()
            while True:
                ts = node.begin()
                slot = f"ring{i % 5}".encode()
                writes = [(key, f"v{i}".encode()), (slot, f"{i}".encode())]
                try:
                    node.commit(ts, writes, [(k, Kind.FULL) for k, _ in writes])
                    break
                except CommitConflict:
                    continue
            with lock:
                sys.stdout.write(f"ack {i}\n")
                sys.stdout.flush()
            n += 1
            if tid == 0 and n % 97 == 0:
                node.checkpoint()

    for t in range(threads):
        threading.Thread(target=work, args=(t,), daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
