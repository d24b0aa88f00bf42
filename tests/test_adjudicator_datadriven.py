"""Data-driven conflict scripts for the adjudicator (tests/testdata/adjudicator/*.txt).

Goal: the commit rule, timestamps, window, clock modes and the shard vote, written as data a
reviewer can check line by line against the rules (docs/adjudicator.md). Method: each file is
a CockroachDB-style script of blocks

    <command> <args...>
    <input lines, for batch>
    ----
    <expected output lines>
    <blank line>

run against the C++ adjudicator over a manual simulated clock (physical time stands still
unless `advance` moves it, so every timestamp is predictable). DSQL_REWRITE=1 rewrites the
expected output in place; rewritten files must be reviewed before they are committed.

Commands:
  new [time=100] [window=N] [max-keys=N] [authority=single|multi] [hold=N] [max-pending=N]
      [splits=m,t]                       fresh clock and adjudicator (shards split at m and t)
  begin t1 [start=N]                     start=N, or a fresh timestamp from the clock
  write t1 a full | write t1 a=full b=nonkey
  commit t1                              one shard: the fast path; several: the vote
  batch                                  input lines "t1 start=10 a=full b=keyshare", decided
                                         in one call, in order (one shard only)
  prepare t1 | decide t1 | abort t1      the vote step by step: each involved shard's vote,
                                         then the coordinator's rule and the decision sent out
  heartbeat | promise-through ts=N | expire | advance ns=N | status unknown|synchronized
  stats [fields=keys,floor,promised,pending,held] | unsync-seen
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dsql import clock as dclock
from dsql._core import _kernels

TESTDATA = Path(__file__).parent / "testdata" / "adjudicator"
KINDS = {"keyshare": 0, "nonkey": 1, "full": 2}
KIND_NAMES = {v: k for k, v in KINDS.items()}
OUTCOMES = ["committed", "conflict", "too-old", "refused", "busy", "expired"]
INT64_MIN = -(2**63)


# ---- the file format ----------------------------------------------------------------------

@dataclass
class Block:
    line: int
    command: str
    input: list[str]
    expected: list[str]
    leading: list[str] = field(default_factory=list)  # comments and blank lines before it


def parse(text: str) -> tuple[list[Block], list[str]]:
    """Blocks in file order, and the lines after the last block."""
    blocks: list[Block] = []
    leading: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.startswith("#"):
            leading.append(line)
            i += 1
            continue
        start = i
        command = line
        i += 1
        inputs: list[str] = []
        while i < len(lines) and lines[i] != "----":
            if not lines[i].strip():
                raise ValueError(f"line {start + 1}: {command!r} has no ---- separator")
            inputs.append(lines[i])
            i += 1
        if i >= len(lines):
            raise ValueError(f"line {start + 1}: {command!r} has no ---- separator")
        i += 1
        expected: list[str] = []
        while i < len(lines) and lines[i].strip():
            expected.append(lines[i])
            i += 1
        i += 1  # the blank line that ends the block
        blocks.append(Block(start + 1, command, inputs, expected, leading))
        leading = []
    return blocks, leading


def render(blocks: list[Block], trailing: list[str], outputs: list[list[str]]) -> str:
    out: list[str] = []
    for block, actual in zip(blocks, outputs, strict=True):
        out += block.leading
        out += [block.command, *block.input, "----", *actual]
        out.append("")  # the blank line that ends the block
    return "\n".join(out + trailing).rstrip("\n") + "\n"


# ---- running the commands ------------------------------------------------------------------

@dataclass
class Txn:
    txn_id: int
    start: int
    writes: list[tuple[bytes, int]] = field(default_factory=list)
    votes: list = field(default_factory=list)


def _args(tokens: list[str]) -> dict[str, str]:
    out = {}
    for t in tokens:
        if "=" not in t:
            raise ValueError(f"expected key=value, got {t!r}")
        k, v = t.split("=", 1)
        out[k] = v
    return out


def _txn_id(name: str) -> int:
    if not (name.startswith("t") and name[1:].isdigit()):
        raise ValueError(f"transaction names are t<number>, not {name!r}")
    return int(name[1:])


def _key(k: bytes) -> str:
    return k.decode("ascii") if k and k.isascii() and k.decode().isprintable() else repr(k)


def _ts(ts: int) -> str:
    return "none" if ts == INT64_MIN else str(ts)


def _conflict(key: bytes, mine: int, theirs: int, pending: bool, other: int) -> str:
    held = f", held by t{other}" if pending else ""
    return f"on {_key(key)} ({KIND_NAMES[mine]} vs {KIND_NAMES[theirs]}{held})"


class Script:
    def __init__(self) -> None:
        self.new({})

    def new(self, args: dict[str, str]) -> None:
        self.clock = dclock.Clock.simulated(start_ns=int(args.get("time", "100")))
        authority = args.get("authority", "single")
        if authority not in ("single", "multi"):
            raise ValueError("authority is single or multi")
        splits = [s.encode() for s in args["splits"].split(",")] if "splits" in args else []
        self.map = _kernels.adjudicator.AdjudicatorShardMap(
            self.clock.hybrid, splits,
            window_ns=int(args.get("window", 300_000_000_000)),
            max_keys=int(args.get("max-keys", 1_000_000)),
            single_timestamp_authority=authority == "single",
            hold_ns=int(args.get("hold", 10_000_000_000)),
            max_pending_txns=int(args.get("max-pending", 10_000)),
            hash_seed=1)
        self.txns: dict[str, Txn] = {}

    def txn(self, name: str) -> Txn:
        if name not in self.txns:
            raise ValueError(f"{name} was not begun")
        return self.txns[name]

    def add_writes(self, txn: Txn, tokens: list[str]) -> None:
        if len(tokens) == 2 and "=" not in tokens[0]:
            tokens = [f"{tokens[0]}={tokens[1]}"]
        for token in tokens:  # in order, duplicates kept: the kernel merges them
            key, sep, kind = token.partition("=")
            if not sep or kind not in KINDS:
                raise ValueError(f"kind is keyshare, nonkey or full, not {kind!r}")
            txn.writes.append((key.encode(), KINDS[kind]))

    def describe(self, name: str, txn: Txn, raw: tuple) -> str:
        outcome, commit_ts, key_index, mine, theirs, pending, other = raw
        if outcome == 0:
            return f"committed {name} at {commit_ts}"
        if outcome == 1:
            key = txn.writes[key_index][0]
            return f"conflict {name} {_conflict(key, mine, theirs, pending, other)}"
        return f"{OUTCOMES[outcome]} {name}"

    def run(self, block: Block) -> list[str]:
        words = block.command.split()
        cmd, rest = words[0], words[1:]
        if cmd == "new":
            self.new(_args(rest))
            return ["ok"]
        if cmd == "begin":
            args = _args(rest[1:])
            start = int(args["start"]) if "start" in args else self.clock.hybrid.next_above(-1)
            self.txns[rest[0]] = Txn(_txn_id(rest[0]), start)
            return [f"{rest[0]} start={start}"]
        if cmd == "write":
            self.add_writes(self.txn(rest[0]), rest[1:])
            return ["ok"]
        if cmd == "commit":
            return [self.commit(rest[0])]
        if cmd == "batch":
            return self.batch(block.input)
        if cmd == "prepare":
            return self.prepare(rest[0])
        if cmd == "decide":
            return self.decide(rest[0])
        if cmd == "abort":
            t = self.txn(rest[0])
            for v in t.votes:
                if v.yes:
                    self.map.shard(v.shard).decide(_kernels.adjudicator.Decision(t.txn_id, False))
            t.votes = []
            return [f"aborted {rest[0]}"]
        if cmd == "heartbeat":
            return [f"promised {_ts(self.map.heartbeat())}"]
        if cmd == "promise-through":
            return [f"promised {_ts(self.map.promise_through(int(_args(rest)['ts'])))}"]
        if cmd == "advance":
            self.clock.source.advance(int(_args(rest)["ns"]))
            return [f"time {self.clock.now().estimate}"]
        if cmd == "status":
            self.clock.source.set_status(rest[0])
            return ["ok"]
        if cmd == "expire":
            n = sum(self.map.shard(i).expire_pending() for i in range(self.map.shard_count))
            return [f"released {n}"]
        if cmd == "unsync-seen":
            return [str(self.map.clock_unsynchronized_seen).lower()]
        if cmd == "stats":
            fields = _args(rest).get("fields")
            return self.stats(fields.split(",") if fields else None)
        raise ValueError(f"unknown command {cmd!r}")

    def commit(self, name: str) -> str:
        t = self.txn(name)
        outcome, commit_ts, conflict, shards, _error = self.map.commit(t.start, t.writes, t.txn_id)
        via = f" ({shards} shards)" if shards > 1 else ""
        if outcome == 0:
            return f"committed {name} at {commit_ts}{via}"
        if outcome == 1:
            return f"conflict {name} {_conflict(*conflict)}{via}"
        return f"{OUTCOMES[outcome]} {name}{via}"

    def batch(self, lines: list[str]) -> list[str]:
        if self.map.shard_count != 1:
            raise ValueError("batch runs on a single adjudicator (no splits)")
        names = []
        for line in lines:
            tokens = line.split()
            start = int(_args([tokens[1]])["start"])
            t = Txn(_txn_id(tokens[0]), start)
            self.add_writes(t, tokens[2:])
            self.txns[tokens[0]] = t
            names.append(tokens[0])
        txns = [(self.txns[n].txn_id, self.txns[n].start, self.txns[n].writes) for n in names]
        raws = self.map.shard(0).adjudicate_batch(txns)
        return [self.describe(n, self.txns[n], raw) for n, raw in zip(names, raws, strict=True)]

    def prepare(self, name: str) -> list[str]:
        t = self.txn(name)
        out = []
        t.votes = []
        for req in self.map.split(t.txn_id, t.start, t.writes):
            v = self.map.shard(req.shard).prepare(req)
            t.votes.append(v)
            if v.yes:
                out.append(f"shard {v.shard}: yes at {v.proposed_ts} until {v.hold_until_ns}")
            elif v.conflict is not None:
                c = v.conflict
                out.append(f"shard {v.shard}: no, conflict "
                           f"{_conflict(c.key, c.mine, c.theirs, c.pending, c.other_txn)}")
            else:
                out.append(f"shard {v.shard}: no, {OUTCOMES[v.reason]}")
        return out

    def decide(self, name: str) -> list[str]:
        t = self.txn(name)
        d = _kernels.adjudicator.decide_votes(t.txn_id, t.votes, self.clock.now().latest)
        out = []
        for v in t.votes:
            if v.yes:
                ack = self.map.shard(v.shard).decide(d)
                if not ack.ok:
                    out.append(f"shard {v.shard}: {ack.error}")
        t.votes = []
        head = f"committed {name} at {d.commit_ts}" if d.commit else f"aborted {name}"
        return [head, *out]

    def stats(self, fields: list[str] | None) -> list[str]:
        out = []
        for i in range(self.map.shard_count):
            s = self.map.shard(i).stats()
            values = {"keys": str(s["keys"]), "floor": _ts(s["window_floor_ts"]),
                      "promised": _ts(s["promised_ts"]), "pending": str(s["pending_txns"]),
                      "held": str(s["held_keys"])}
            names = fields or list(values)
            prefix = f"shard {i}: " if self.map.shard_count > 1 else ""
            out.append(prefix + " ".join(f"{n}={values[n]}" for n in names))
        return out


def run_file(path: Path) -> tuple[str, str]:
    """(file text, text with the actual outputs)."""
    text = path.read_text(encoding="utf-8")
    blocks, trailing = parse(text)
    script = Script()
    outputs = []
    for block in blocks:
        try:
            outputs.append(script.run(block))
        except (ValueError, KeyError, TypeError) as e:
            outputs.append([f"error: {e}"])
    return text, render(blocks, trailing, outputs)


FILES = sorted(TESTDATA.glob("*.txt"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_script(path: Path) -> None:
    text, actual = run_file(path)
    if os.environ.get("DSQL_REWRITE") == "1":
        path.write_text(actual, encoding="utf-8")
        return
    if actual != text:
        import difflib

        diff = "\n".join(difflib.unified_diff(text.splitlines(), actual.splitlines(),
                                              "expected", "actual", lineterm=""))
        pytest.fail(f"{path.name} differs (DSQL_REWRITE=1 rewrites it):\n{diff}")


def test_files_exist() -> None:
    assert len(FILES) >= 6


def test_parser_round_trips() -> None:
    text = "# c\n\nnew\n----\nok\n\nbatch\nt1 start=1 a=full\n----\ncommitted t1 at 100\n"
    blocks, trailing = parse(text)
    assert [b.command for b in blocks] == ["new", "batch"]
    assert blocks[1].input == ["t1 start=1 a=full"]
    assert render(blocks, trailing, [b.expected for b in blocks]) == text
