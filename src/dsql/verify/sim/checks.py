"""The checks run after every simulated run.

1. Elle (dsql.verify.elle) on the list-append history plus a final read of every list: none
   of G0, G1a, G1b, G1c, G-single, G-nonadjacent or the observation errors, and real-time
   order (strong snapshot isolation).
2. Durability: every acknowledged commit is in the state recovered after a last crash: each
   value an acknowledged list-append appended is in its list, and each acknowledged transfer
   is in the writer chain of both accounts it wrote.
3. Storage at τ: every value storage served at τ is the one written by the latest durable
   commit at or below τ (durable = in the final state; see `durable_commits`).
4. Bank: every audit and the final state sum to the initial total; no balance is negative.
5. Anything the node itself reported (e.g. an apply refused by storage).

Each failing check adds a line to the returned list (at most FINDINGS_MAX per check).
Thread-safety: pure functions over the run's records.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from dsql.verify.elle import check as elle_check
from dsql.verify.history import OK, Op
from dsql.verify.sim.client import decode_account, decode_list
from dsql.verify.sim.oracle import Oracle

FINDINGS_MAX = 5
CHAIN_MAX = 1_000_000


def elle_findings(history: Sequence[Op]) -> list[str]:
    result = elle_check(history, realtime=True)
    if result.valid and result.strong_valid:
        return []
    out: list[str] = []
    for a in result.anomalies:
        if a.type == "G2-item":
            continue  # write skew: allowed under snapshot isolation
        out.append(f"elle {a.type}: {a.description}")
        if len(out) >= FINDINGS_MAX:
            break
    return out or [f"elle: history invalid ({sorted(result.types)})"]


def durable_commits(oracle: Oracle, final: dict[bytes, bytes | None]
                    ) -> tuple[set[int], list[str]]:
    """Which decided transactions are in the final state, and findings (a transaction only
    partly present, a writer chain through a transaction never decided)."""
    durable: set[int] = set()
    findings: list[str] = []
    lists = {k: set(decode_list(v)) for k, v in final.items() if k.startswith(b"l:")}
    for txn_id, meta in oracle.meta.items():
        if meta.kind != "list" or txn_id not in oracle.commits:
            continue
        present = [all(v in lists.get(k, set()) for v in vals)
                   for k, vals in meta.appends.items()]
        if all(present):
            durable.add(txn_id)
        elif any(present) and len(findings) < FINDINGS_MAX:
            findings.append(f"txn {txn_id} is only partly in the final state")
    chains: dict[bytes, set[int]] = {}
    for key, raw in final.items():
        if not key.startswith(b"b:"):
            continue
        _, writer = decode_account(raw)
        chain: set[int] = set()
        for _ in range(CHAIN_MAX):
            if writer == 0:
                durable.add(0)  # the initial load
                break
            if writer in chain:
                findings.append(f"account {key!r}: the writer chain loops at txn {writer}")
                break
            chain.add(writer)
            meta = oracle.meta.get(writer)
            if meta is None or writer not in oracle.commits:
                findings.append(f"account {key!r} was written by txn {writer}, never decided")
                break
            writer = meta.prev_writer[key]
        chains[key] = chain
    for txn_id, meta in oracle.meta.items():
        if meta.kind != "bank" or txn_id not in oracle.commits:
            continue
        present = [txn_id in chains.get(k, set()) for k in meta.prev_writer]
        if all(present):
            durable.add(txn_id)
        elif any(present) and len(findings) < FINDINGS_MAX:
            findings.append(f"transfer {txn_id} is only partly in the final state")
    return durable, findings


def durability_findings(oracle: Oracle, durable: set[int]) -> list[str]:
    lost = sorted(oracle.acked - durable)
    if not lost:
        return []
    return [f"acknowledged commit lost: txn {t} at ts {oracle.commits[t][0]}"
            for t in lost[:FINDINGS_MAX]] + (
        [f"... {len(lost)} acknowledged commits lost in all"] if len(lost) > FINDINGS_MAX
        else [])


def storage_findings(oracle: Oracle, durable: set[int], *, strict_promises: bool = False
                     ) -> tuple[list[str], int]:
    """Every served read at τ returned the latest durable write at or below τ. Returns the
    findings and the number of *retroactive* reads: the read missed only commits at or below
    τ that were decided in a later epoch, after a crash. Promises (the watermark) are not
    durable, so after a restart whose clock stands below a τ served before the crash, new
    commits can land at or below τ (docs/simulation.md, "Findings"); those count as
    findings only with strict_promises."""
    versions: dict[bytes, list[tuple[int, bytes | None, int]]] = {}
    for txn_id in durable | {0}:
        if txn_id not in oracle.commits:
            continue
        ts, writes = oracle.commits[txn_id]
        for key, value in writes:
            versions.setdefault(key, []).append((ts, value, txn_id))
    stamps: dict[bytes, list[int]] = {}
    for key, vs in versions.items():
        vs.sort(key=lambda v: v[0])
        stamps[key] = [ts for ts, _, _ in vs]
    out: list[str] = []
    bad = retroactive = 0
    for key, ts, value, epoch in oracle.served_reads:
        i = bisect.bisect_right(stamps.get(key, []), ts)
        expected = versions[key][i - 1][1] if i else None
        if value == expected:
            continue
        # The newest durable write at or below τ decided no later than the read's epoch.
        earlier = [v for v in versions.get(key, [])[:i]
                   if oracle.commit_epoch.get(v[2], 0) <= epoch]
        if not strict_promises and value == (earlier[-1][1] if earlier else None):
            retroactive += 1
            continue
        bad += 1
        if len(out) < FINDINGS_MAX:
            writer = versions[key][i - 1][2] if i else None
            out.append(f"storage served {value!r} for {key!r} at ts {ts} (epoch {epoch}); "
                       f"the durable commits at or below it say {expected!r} (txn {writer}, "
                       f"decided in epoch {oracle.commit_epoch.get(writer or 0)})")
    if bad > FINDINGS_MAX:
        out.append(f"... {bad} wrong reads in all")
    return out, retroactive


def bank_findings(oracle: Oracle, final: dict[bytes, bytes | None], total: int) -> list[str]:
    out: list[str] = []
    for ts, balances in oracle.audits:
        if sum(balances) != total or min(balances) < 0:
            out.append(f"bank audit at ts {ts} saw {balances} (total {sum(balances)}, "
                       f"expected {total})")
            if len(out) >= FINDINGS_MAX:
                break
    balances = [decode_account(v)[0] for k, v in sorted(final.items()) if k.startswith(b"b:")]
    if sum(balances) != total or min(balances) < 0:
        out.append(f"bank final state {balances} (total {sum(balances)}, expected {total})")
    return out


def final_read_op(index: int, time_ns: int, final: dict[bytes, bytes | None]) -> list[Op]:
    """The final read of every list as an invoke/ok pair for the Elle history."""
    from dsql.verify.history import INVOKE, READ, MicroOp
    keys = sorted(int(k[2:]) for k in final if k.startswith(b"l:"))
    invoke = tuple(MicroOp(READ, k, None) for k in keys)
    done = tuple(MicroOp(READ, k, decode_list(final[b"l:%03d" % k])) for k in keys)
    return [Op(index=index, type=INVOKE, value=invoke, process="final", time_ns=time_ns),
            Op(index=index + 1, type=OK, value=done, process="final", time_ns=time_ns + 1)]
