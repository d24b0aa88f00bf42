"""Jepsen-style histories of list-append transactions: parse, load, dump, pair into transactions.

A history is a sequence of operations. A client *invokes* an operation, then *completes* it
with `ok` (committed, reads filled in), `fail` (definitely not committed) or `info` (outcome
unknown: possibly committed). The file format is JSON Lines, one operation per line::

    history   := op*                       one JSON object per line; blank lines ignored
    op        := {"index": int,            position in the history, strictly increasing
                  "type": "invoke" | "ok" | "fail" | "info",
                  "process": int | str,    optional; the logical client (null = one client)
                  "f": "txn",              optional; ops with another f are skipped
                  "time": int,             optional; ns on one monotonic clock for the history
                  "value": [mop, ...]}
    mop       := ["append", key, int]      append the int (unique per key) to key's list
               | ["r", key, [int, ...] | null]   read key's whole list; null on an invoke;
                                           null on an ok op means the key was absent (= [])
    key       := int | str

Pairing: per process, an invoke is completed by that process's next ok/fail/info op. A
completion with no pending invoke stands alone (its invoke time unknown); an invoke never
completed is indeterminate (`info`). An `ok` txn's micro-ops come from its completion; a
`fail` or `info` txn's reads are unknown and ignored, its appends are known from the invoke.

Invariants of a parsed history:
  1. op indices strictly increase; per process at most one invoke is pending;
  2. every append value is an int, unique per key across the whole history (Elle's premise:
     a value in a read names its writer);
  3. a Txn's `type` is "ok", "fail" or "info"; `invoke_ns <= complete_ns` when both are known.
Thread-safety: all types here are immutable; functions are pure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

Key = int | str
ReadValue = tuple[int, ...] | None

INVOKE, OK, FAIL, INFO = "invoke", "ok", "fail", "info"
OP_TYPES = (INVOKE, OK, FAIL, INFO)
APPEND, READ = "append", "r"
HISTORY_OPS_MAX = 10_000_000  # a bound on what one history may hold
MOPS_PER_TXN_MAX = 100_000


class HistoryError(ValueError):
    """A history that cannot be analysed (malformed op, duplicate append value); says where."""


@dataclass(frozen=True)
class MicroOp:
    """One step of a transaction: `append` an int to `key`, or `r` (read) the key's list."""

    f: str
    key: Key
    value: int | ReadValue

    def to_json(self) -> list[object]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return [self.f, self.key, value]


@dataclass(frozen=True)
class Op:
    """One line of a history."""

    index: int
    type: str
    value: tuple[MicroOp, ...]
    process: int | str | None = None
    f: str = "txn"
    time_ns: int | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"index": self.index, "type": self.type}
        if self.time_ns is not None:
            out["time"] = self.time_ns
        if self.process is not None:
            out["process"] = self.process
        out["f"] = self.f
        out["value"] = [m.to_json() for m in self.value]
        return out


@dataclass(frozen=True)
class Txn:
    """An invoke paired with its completion. `id` is the completion's index (the invoke's if it
    never completed), which is how reports name it: ``T<id>``."""

    id: int
    type: str
    mops: tuple[MicroOp, ...]
    process: int | str | None
    invoke_index: int | None
    complete_index: int | None
    invoke_ns: int | None
    complete_ns: int | None

    @property
    def name(self) -> str:
        return f"T{self.id}"

    def appends(self) -> Iterator[tuple[Key, int]]:
        for m in self.mops:
            if m.f == APPEND:
                assert isinstance(m.value, int)
                yield m.key, m.value


def _parse_key(raw: object, where: str) -> Key:
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise HistoryError(f"{where}: key must be an int or a string, not {raw!r}")
    return raw


def _parse_int(raw: object, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise HistoryError(f"{where}: expected an int, not {raw!r}")
    return raw


def parse_mop(raw: object, where: str) -> MicroOp:
    """`["append", k, v]` or `["r", k, list|None]` -> MicroOp."""
    if not isinstance(raw, (list, tuple)) or len(raw) != 3:
        raise HistoryError(f"{where}: a micro-op is [f, key, value], not {raw!r}")
    f, key, value = raw
    k = _parse_key(key, where)
    if f == APPEND:
        return MicroOp(APPEND, k, _parse_int(value, where))
    if f == READ:
        if value is None:
            return MicroOp(READ, k, None)
        if not isinstance(value, (list, tuple)):
            raise HistoryError(f"{where}: a read's value is a list or null, not {value!r}")
        return MicroOp(READ, k, tuple(_parse_int(v, where) for v in value))
    raise HistoryError(f"{where}: unknown micro-op {f!r} (expected 'append' or 'r')")


def parse_op(raw: object, where: str = "op") -> Op:
    """One decoded JSON object -> Op. Raises HistoryError naming `where` on bad input."""
    if not isinstance(raw, dict):
        raise HistoryError(f"{where}: an op is a JSON object, not {raw!r}")
    if "index" not in raw or "type" not in raw:
        raise HistoryError(f"{where}: an op needs 'index' and 'type'")
    index = _parse_int(raw["index"], where)
    kind = raw["type"]
    if kind not in OP_TYPES:
        raise HistoryError(f"{where}: type must be one of {OP_TYPES}, not {kind!r}")
    process = raw.get("process")
    if isinstance(process, bool) or not (process is None or isinstance(process, (int, str))):
        raise HistoryError(f"{where}: process must be an int or a string, not {process!r}")
    f = raw.get("f", "txn")
    if not isinstance(f, str):
        raise HistoryError(f"{where}: f must be a string, not {f!r}")
    time_raw = raw.get("time")
    time_ns = None if time_raw is None else _parse_int(time_raw, where)
    value_raw = raw.get("value")
    mops: tuple[MicroOp, ...] = ()
    if f == "txn":
        if not isinstance(value_raw, list):
            raise HistoryError(f"{where}: a txn's value is a list of micro-ops")
        if len(value_raw) > MOPS_PER_TXN_MAX:
            raise HistoryError(f"{where}: more than {MOPS_PER_TXN_MAX} micro-ops")
        mops = tuple(parse_mop(m, f"{where} micro-op {i}") for i, m in enumerate(value_raw))
    return Op(index=index, type=kind, value=mops, process=process, f=f, time_ns=time_ns)


def parse_jsonl(lines: Iterable[str], source: str = "<history>") -> list[Op]:
    """Parses JSON Lines text; blank lines are skipped. Raises HistoryError with the line."""
    ops: list[Op] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if len(ops) >= HISTORY_OPS_MAX:
            raise HistoryError(f"{source}: more than {HISTORY_OPS_MAX} ops")
        where = f"{source}:{n}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise HistoryError(f"{where}: not JSON ({exc.msg})") from exc
        ops.append(parse_op(raw, where))
    return ops


def load_history(path: str | Path) -> list[Op]:
    """Reads a .jsonl history file (format at the top of this module)."""
    p = Path(path)
    with p.open(encoding="utf-8") as fh:
        return parse_jsonl(fh, str(p))


def dump_jsonl(ops: Sequence[Op]) -> str:
    """The history as JSON Lines text (parse_jsonl's inverse)."""
    return "".join(json.dumps(op.to_json(), separators=(", ", ": ")) + "\n" for op in ops)


def save_history(ops: Sequence[Op], path: str | Path) -> None:
    Path(path).write_text(dump_jsonl(ops), encoding="utf-8")


def pair_transactions(ops: Sequence[Op]) -> list[Txn]:
    """Pairs invokes with completions (see the module docstring); txns sorted by id.

    REQUIRES: op indices strictly increase. Checks invariant 2 (unique appends per key).
    """
    pending: dict[int | str | None, Op] = {}
    txns: list[Txn] = []
    last_index: int | None = None
    for op in ops:
        if last_index is not None and op.index <= last_index:
            raise HistoryError(f"op index {op.index} does not increase (after {last_index})")
        last_index = op.index
        if op.f != "txn":
            continue  # e.g. a nemesis op
        if op.type == INVOKE:
            if op.process in pending:
                raise HistoryError(f"op {op.index}: process {op.process!r} invokes while its "
                                   f"op {pending[op.process].index} is pending")
            pending[op.process] = op
            continue
        inv = pending.pop(op.process, None)
        txns.append(_make_txn(inv, op))
    for inv in pending.values():
        txns.append(_make_txn(inv, None))
    txns.sort(key=lambda t: t.id)
    _check_unique_appends(txns)
    assert all(t.type in (OK, FAIL, INFO) for t in txns)
    return txns


def _make_txn(inv: Op | None, done: Op | None) -> Txn:
    assert inv is not None or done is not None
    kind = INFO if done is None else done.type
    if kind == OK:
        assert done is not None
        mops = done.value
    else:
        # Reads of a failed or indeterminate txn are unknown: keep the appends, blank the reads.
        base = inv.value if inv is not None else (done.value if done is not None else ())
        mops = tuple(m if m.f == APPEND else MicroOp(READ, m.key, None) for m in base)
    if inv is not None and done is not None and len(inv.value) != len(done.value):
        raise HistoryError(f"op {done.index}: completion has {len(done.value)} micro-ops, its "
                           f"invoke {inv.index} has {len(inv.value)}")
    invoke_ns = inv.time_ns if inv is not None else None
    complete_ns = done.time_ns if done is not None else None
    if invoke_ns is not None and complete_ns is not None and complete_ns < invoke_ns:
        raise HistoryError(f"op {done.index if done else '?'}: completes at {complete_ns} ns "
                           f"before its invoke at {invoke_ns} ns")
    last = done if done is not None else inv
    assert last is not None
    return Txn(id=last.index, type=kind, mops=mops, process=last.process,
               invoke_index=inv.index if inv is not None else None,
               complete_index=done.index if done is not None else None,
               invoke_ns=invoke_ns, complete_ns=complete_ns)


def _check_unique_appends(txns: Sequence[Txn]) -> None:
    seen: dict[tuple[Key, int], int] = {}
    for t in txns:
        for key, value in t.appends():
            other = seen.setdefault((key, value), t.id)
            if other != t.id:
                raise HistoryError(f"value {value} is appended to key {key!r} by both T{other} "
                                   f"and T{t.id}; list-append needs unique values per key")
            # The same txn appending a value twice to one key is equally ambiguous.
    for t in txns:
        mine = [(k, v) for k, v in t.appends()]
        if len(mine) != len(set(mine)):
            raise HistoryError(f"T{t.id} appends the same value twice to one key")
