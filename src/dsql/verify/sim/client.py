"""Simulated clients: list-append transactions (for the Elle checker) and bank transfers.

A client is the query processor of one session at a time. It runs one transaction after
another: BEGIN (a snapshot timestamp from the node), one batched read of every key the
transaction touches at that snapshot, then, if it wrote, COMMIT with its post-images and a
FULL claim per written key. Every step is a message through the simulated network, with a
timeout: a BEGIN or read that times out (or is refused after a restart) ends the transaction
as ``fail`` (nothing was sent to commit, so it certainly did not commit); a COMMIT that times
out, or reaches a node restarted since BEGIN, ends it as ``info`` (it may or may not have
committed), as Jepsen does.

List-append transactions are recorded in dsql.verify's history format (history.py), with the
true simulated time as the op time, so the existing Elle checker checks them, real-time order
included. Key ``l:003`` is history key 3; a list is stored as b"1,2,3". Bank transactions move
an amount between two accounts (never below zero) or audit all accounts at one snapshot; an
account is stored as b"<balance>;<txn id of its writer>" so that every version names its
writer.

Invariants: 1. at most one request per client is outstanding; 2. append values are unique in
the run (one counter for all clients); 3. a client starts no transaction after `stop_ns`.
Thread-safety: single-threaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dsql.adjudicator import Kind
from dsql.verify.history import APPEND, FAIL, INFO, INVOKE, OK, READ, MicroOp, Op
from dsql.verify.sim.faults import MS, US
from dsql.verify.sim.network import Message, Network
from dsql.verify.sim.oracle import Oracle, TxnMeta
from dsql.verify.sim.scheduler import Scheduler
from dsql.verify.sim.simnode import NAME as NODE

BEGIN_TIMEOUT_NS = 5 * MS
READ_TIMEOUT_NS = 8 * MS
COMMIT_TIMEOUT_NS = 20 * MS
THINK_MAX_NS = 500 * US


def list_key(i: int) -> bytes:
    return b"l:%03d" % i


def account_key(i: int) -> bytes:
    return b"b:%03d" % i


def encode_list(values: tuple[int, ...]) -> bytes:
    return ",".join(str(v) for v in values).encode()


def decode_list(raw: bytes | None) -> tuple[int, ...]:
    if not raw:
        return ()
    return tuple(int(v) for v in raw.split(b","))


def encode_account(balance: int, writer: int) -> bytes:
    return b"%d;%d" % (balance, writer)


def decode_account(raw: bytes | None) -> tuple[int, int]:
    assert raw is not None, "an account is never absent"
    balance, writer = raw.split(b";")
    return int(balance), int(writer)


@dataclass
class Workload:
    list_keys: int = 6
    accounts: int = 4
    initial_balance: int = 100
    mops_max: int = 4
    bank_p: float = 0.25
    audit_p: float = 0.3  # of bank transactions


class Recorder:
    """The shared history: op indices in the order ops happen (one scheduler, one order)."""

    def __init__(self, sched: Scheduler) -> None:
        self.sched = sched
        self.ops: list[Op] = []
        self.next_txn_id = 1
        self.next_value = 1

    def op(self, kind: str, process: int, mops: tuple[MicroOp, ...]) -> None:
        self.ops.append(Op(index=len(self.ops), type=kind, value=mops, process=process,
                           time_ns=self.sched.now_ns))

    def txn_id(self) -> int:
        self.next_txn_id += 1
        return self.next_txn_id - 1

    def value(self) -> int:
        self.next_value += 1
        return self.next_value - 1


class Client:
    def __init__(self, index: int, sched: Scheduler, net: Network, recorder: Recorder,
                 oracle: Oracle, workload: Workload, stop_ns: int) -> None:
        self.index = index
        self.name = f"client-{index}"
        self.sched = sched
        self.net = net
        self.rec = recorder
        self.oracle = oracle
        self.w = workload
        self.stop_ns = stop_ns
        self.idle = True
        self.counts = {"ok": 0, "fail": 0, "info": 0}
        self._req = 0
        self._waiting: tuple[int, Callable[[Message], None]] | None = None
        net.register(self.name, self._on_message)

    def start(self) -> None:
        self.sched.after(self.sched.rng.randint(0, THINK_MAX_NS), f"{self.name} next",
                         self._next)

    # -- requests ----------------------------------------------------------------------------
    def _request(self, build: Callable[[int], Message], timeout_ns: int,
                 on_reply: Callable[[Message], None], on_timeout: Callable[[], None]) -> None:
        assert self._waiting is None, "one request at a time"
        self._req += 1
        req = self._req
        self._waiting = (req, on_reply)
        self.net.send(self.name, NODE, build(req))

        def expire() -> None:
            if self._waiting is not None and self._waiting[0] == req:
                self._waiting = None
                on_timeout()
        self.sched.after(timeout_ns, f"{self.name} timeout", expire)

    def _on_message(self, src: str, msg: Message) -> None:
        if self._waiting is None or self._waiting[0] != msg[1]:
            return  # a late or duplicate reply
        on_reply = self._waiting[1]
        self._waiting = None
        on_reply(msg)

    # -- transactions ------------------------------------------------------------------------
    def _next(self) -> None:
        if self.sched.now_ns >= self.stop_ns:
            self.idle = True
            return
        self.idle = False
        rng = self.sched.rng
        if rng.random() < self.w.bank_p:
            self._bank()
        else:
            self._list_append()

    def _done(self, outcome: str) -> None:
        self.counts[outcome] += 1
        self.sched.after(self.sched.rng.randint(0, THINK_MAX_NS), f"{self.name} next",
                         self._next)

    def _begin_then(self, then: Callable[[int, int], None], fail: Callable[[], None]) -> None:
        def on_reply(msg: Message) -> None:
            _, _req, epoch, ts = msg
            then(epoch, ts)
        self._request(lambda req: ("begin", req), BEGIN_TIMEOUT_NS, on_reply, fail)

    def _read_then(self, epoch: int, ts: int, keys: list[bytes],
                   then: Callable[[list[bytes | None]], None], fail: Callable[[], None]) -> None:
        def on_reply(msg: Message) -> None:
            if msg[0] != "values":
                fail()
                return
            then(list(msg[2]))
        self._request(lambda req: ("read", req, epoch, ts, tuple(keys)), READ_TIMEOUT_NS,
                      on_reply, fail)

    def _commit_then(self, epoch: int, ts: int, txn_id: int,
                     writes: list[tuple[bytes, bytes | None]],
                     outcome: Callable[[str], None]) -> None:
        claims = [(k, Kind.FULL) for k, _ in writes]

        def on_reply(msg: Message) -> None:
            if msg[0] == "committed":
                self.oracle.ack(txn_id)
                outcome(OK)
            elif msg[0] == "aborted":
                outcome(FAIL)
            else:
                assert msg[0] == "session-lost"
                outcome(INFO)
        self._request(lambda req: ("commit", req, epoch, txn_id, ts, writes, claims),
                      COMMIT_TIMEOUT_NS, on_reply, lambda: outcome(INFO))

    def _list_append(self) -> None:
        rng = self.sched.rng
        n = rng.randint(1, self.w.mops_max)
        plan: list[tuple[str, int, int | None]] = []
        for _ in range(n):
            k = rng.randrange(self.w.list_keys)
            if rng.random() < 0.5:
                plan.append((APPEND, k, self.rec.value()))
            else:
                plan.append((READ, k, None))
        invoke = tuple(MicroOp(f, k, v) for f, k, v in plan)
        self.rec.op(INVOKE, self.index, invoke)
        txn_id = self.rec.txn_id()
        meta = TxnMeta("list")
        for f, k, v in plan:
            if f == APPEND:
                assert v is not None
                meta.appends.setdefault(list_key(k), []).append(v)
        self.oracle.intent(txn_id, meta)
        keys = sorted({list_key(k) for _, k, _ in plan})

        def fail() -> None:
            self.rec.op(FAIL, self.index, invoke)
            self._done("fail")

        def with_values(epoch: int, ts: int, values: list[bytes | None]) -> None:
            view = {k: decode_list(v) for k, v in zip(keys, values, strict=True)}
            done: list[MicroOp] = []
            written: dict[bytes, tuple[int, ...]] = {}
            for f, k, v in plan:
                key = list_key(k)
                if f == READ:
                    done.append(MicroOp(READ, k, view[key]))
                else:
                    assert v is not None
                    view[key] = view[key] + (v,)
                    written[key] = view[key]
                    done.append(MicroOp(APPEND, k, v))
            result = tuple(done)
            if not written:
                self.rec.op(OK, self.index, result)  # read-only: commits locally
                self._done("ok")
                return
            writes = [(k, encode_list(v)) for k, v in sorted(written.items())]

            def outcome(kind: str) -> None:
                self.rec.op(kind, self.index, result if kind == OK else invoke)
                self._done(kind)
            self._commit_then(epoch, ts, txn_id, writes, outcome)

        self._begin_then(
            lambda epoch, ts: self._read_then(
                epoch, ts, keys, lambda values: with_values(epoch, ts, values), fail),
            fail)

    def _bank(self) -> None:
        rng = self.sched.rng
        txn_id = self.rec.txn_id()
        accounts = [account_key(i) for i in range(self.w.accounts)]
        audit = rng.random() < self.w.audit_p
        a, b = rng.sample(range(self.w.accounts), 2)
        amount = rng.randint(1, 30)

        def fail() -> None:
            self._done("fail")

        def with_values(epoch: int, ts: int, values: list[bytes | None]) -> None:
            rows = [decode_account(v) for v in values]
            if audit:
                self.oracle.audit(ts, [bal for bal, _ in rows])
                self._done("ok")
                return
            (bal_a, w_a), (bal_b, w_b) = rows[a], rows[b]
            if bal_a < amount:
                self._done("ok")  # nothing to move: read-only
                return
            self.oracle.intent(txn_id, TxnMeta("bank", prev_writer={accounts[a]: w_a,
                                                                    accounts[b]: w_b}))
            writes = sorted([(accounts[a], encode_account(bal_a - amount, txn_id)),
                             (accounts[b], encode_account(bal_b + amount, txn_id))])
            self._commit_then(epoch, ts, txn_id, writes,
                              lambda kind: self._done("ok" if kind == OK else kind))

        self._begin_then(
            lambda epoch, ts: self._read_then(
                epoch, ts, accounts, lambda values: with_values(epoch, ts, values), fail),
            fail)
