"""What the simulation knows for certain, gathered while it runs, for the checks at the end.

The node tells the oracle every commit it decides (txn id -> commit ts and writes) and every
value storage serves (key, τ, value); clients tell it what each transaction meant to do
(the values a list-append transaction appends, the previous writer of each account a bank
transfer rewrites) and which commits were acknowledged to them. checks.py turns these, plus
the final state read after a last crash and recovery, into verdicts.

Invariants: 1. a txn id is decided at most once per run (the node refuses a commit request
from an older epoch and answers duplicates from its table); 2. at most SERVED_MAX served
reads are kept (later ones are counted, not kept).
Thread-safety: single-threaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SERVED_MAX = 500_000

Writes = list[tuple[bytes, bytes | None]]


@dataclass
class TxnMeta:
    kind: str  # "list" or "bank"
    appends: dict[bytes, list[int]] = field(default_factory=dict)  # list: key -> values
    prev_writer: dict[bytes, int] = field(default_factory=dict)  # bank: account -> txn id


@dataclass
class Oracle:
    commits: dict[int, tuple[int, Writes]] = field(default_factory=dict)
    commit_epoch: dict[int, int] = field(default_factory=dict)  # txn id -> node epoch
    meta: dict[int, TxnMeta] = field(default_factory=dict)
    acked: set[int] = field(default_factory=set)
    served_reads: list[tuple[bytes, int, bytes | None, int]] = field(default_factory=list)
    served_dropped: int = 0
    audits: list[tuple[int, list[int]]] = field(default_factory=list)  # (ts, balances)
    failures: list[str] = field(default_factory=list)

    def decided(self, txn_id: int, commit_ts: int, writes: Writes, epoch: int) -> None:
        assert txn_id not in self.commits, f"txn {txn_id} decided twice"
        self.commits[txn_id] = (commit_ts, list(writes))
        self.commit_epoch[txn_id] = epoch

    def served(self, key: bytes, ts: int, value: bytes | None, epoch: int) -> None:
        if len(self.served_reads) < SERVED_MAX:
            self.served_reads.append((key, ts, value, epoch))
        else:
            self.served_dropped += 1

    def intent(self, txn_id: int, meta: TxnMeta) -> None:
        assert txn_id not in self.meta
        self.meta[txn_id] = meta

    def ack(self, txn_id: int) -> None:
        assert txn_id in self.commits, f"txn {txn_id} acknowledged but never decided"
        self.acked.add(txn_id)

    def audit(self, ts: int, balances: list[int]) -> None:
        self.audits.append((ts, balances))

    def note_failure(self, text: str) -> None:
        self.failures.append(text)
