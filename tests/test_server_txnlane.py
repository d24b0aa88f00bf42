"""The server's transaction lane: pgbench-shaped transactions answered in C++ (server/fastpath.py).

Goal: the lane is invisible to clients and keeps DSQL's transaction semantics. For every
message sequence of named prepared statements (pgbench -M prepared: Bind, Describe portal,
Execute, Sync per statement) it sends exactly the bytes the general path sends; it is really
used for BEGIN/COMMIT, point SELECTs, `c = c + $n` UPDATEs and parameter INSERTs; a lane
transaction reads its snapshot merged with its own writes, conflicts at COMMIT exactly as the
general path does (40001 OC000), is handed to the general path intact on anything it does not
do (the general path then continues the SAME transaction: same snapshot, same buffered writes,
committed or rolled back as one unit), never writes through a stale plan after a DDL, keeps
the per-transaction limits (54000) and is durable once COMMIT is acknowledged.

Method: two in-process servers over one shared Database, one with the lane (in connection
threads, or on the event loop) and one without (`fast_path=False`); a hand-written protocol
client sends each step to both and the replies must be identical byte for byte. The two sides
share the tables but own disjoint rows (each test's lane-side ids are B+1..B+N for a fresh B,
the general side's B+1001..B+1000+N, same starting values), so results must be equal too (row
ids in an error's detail are mapped back). Where one shared row is the point (write-write
races) or ids cannot be told apart (unique values, index lookups), the same script runs on
the lane server and then on the general server, on the same rows reset in between. A Python
model of each test's rows is compared with both sides' rows at the end (read through the
general server). The database's `fast_path().served` counter (message groups the lane
answered) shows that the lane ran: every group in thread mode, at least half on the event
loop (see assert_served in test_server_fastpath.py). Durability: a `dsql serve` child is
SIGKILLed and its data directory reopened. Real pgbench runs a TPC-B script when installed.
Where the general path itself departs from PostgreSQL (an error at Bind does not abort the
block; a `SELECT *` prepared before ADD COLUMN), the lane must still match it byte for byte,
and the test then ends as an expected failure naming the departure.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re
import shutil
import struct
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dsql.server.auth import InMemoryRoleStore
from dsql.server.child import ServeProcess
from dsql.server.config import ServerConfig
from dsql.server.factory import EngineBackend
from dsql.server.runner import ServerThread
from engine_pair import lane_and_general
from pgwire_client import (
    FLUSH,
    SYNC,
    TERMINATE,
    Message,
    RawClient,
    bind,
    close,
    data_row,
    describe,
    execute,
    fields,
    parse,
    query,
)

SHIFT = 1000  # the general side's row ids are the lane side's + SHIFT
SPAN = 1000  # a side's ids lie in (offset, offset + SPAN]
BASE_STEP = 10_000  # each bank's rows start at a new multiple of this
ACCOUNTS, TELLERS = 10, 3  # account ACCOUNTS has a NULL balance
NULL_ACCOUNT = ACCOUNTS
CONFLICT = "change conflicts with another transaction (OC000)"
MTIME_SLACK_S = 0.005  # timestamps are microseconds; the clock reads may straddle a tick
Servers = tuple[ServerThread, ServerThread, EngineBackend]
Offsets = tuple[int, int]
_tables = itertools.count(1)
_bases = itertools.count(1)


# -- message groups -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """A row id in a parameter or a statement: each side adds its offset."""

    n: int


Param = int | Row | str | bytes | None
Part = bytes | Callable[[int], bytes]


def _param(p: Param, offset: int) -> bytes | None:
    if isinstance(p, Row):
        return str(p.n + offset).encode()
    if isinstance(p, int):
        return str(p).encode()
    return p.encode() if isinstance(p, str) else p


def grp(stmt: str, *params: Param, formats: Sequence[int] = (),
        result_formats: Sequence[int] = ()) -> Callable[[int], bytes]:
    """One statement as libpq's PQsendQueryPrepared sends it: Bind (unnamed portal), Describe
    portal, Execute, Sync."""

    def build(offset: int) -> bytes:
        vals = [_param(p, offset) for p in params]
        return (bind("", stmt, vals, formats, result_formats) + describe("P", "")
                + execute("") + SYNC)

    return build


def sq(text: Callable[[int], str]) -> Callable[[int], bytes]:
    """A simple Query whose text depends on the side's offset."""
    return lambda offset: query(text(offset))


def _ends(data: bytes) -> int:
    """Messages in `data` that end with ReadyForQuery (Query and Sync)."""
    pos, n = 0, 0
    for _ in range(100_000):
        if pos >= len(data):
            return n
        n += data[pos:pos + 1] in (b"Q", b"S")
        pos += 1 + struct.unpack("!i", data[pos + 1:pos + 5])[0]
    raise AssertionError("too many messages")


def _read(c: RawClient, n: int) -> list[Message]:
    out: list[Message] = []
    for _ in range(n):
        out += c.read_until_ready()
    return out


def _build(parts: Sequence[Part], offset: int) -> bytes:
    return b"".join(p if isinstance(p, bytes) else p(offset) for p in parts)


def run(c: RawClient, offset: int, *parts: Part) -> list[Message]:
    """Sends parts (built for `offset`) on one connection; returns the replies."""
    data = _build(parts, offset)
    c.send(data)
    return _read(c, _ends(data))


_ID_IN_DETAIL = re.compile(rb"(=\(|contains \()(\d+)")


def _encode_row(row: Sequence[bytes | None]) -> bytes:
    return struct.pack("!h", len(row)) + b"".join(
        struct.pack("!i", -1) if v is None else struct.pack("!i", len(v)) + v for v in row)


def unshift(replies: list[Message], offsets: Offsets, first_column: bool = False
            ) -> list[Message]:
    """The general side's replies with its row ids written as the lane side's: in an error's
    detail ("Key (id)=(1002) already exists", "Failing row contains (1002, ...)") and, with
    `first_column`, in the first column of each DataRow (a `SELECT *` that shows the id)."""
    lane_off, gen_off = offsets

    def back(n: int) -> int:
        return n - gen_off + lane_off if gen_off < n <= gen_off + SPAN else n

    out: list[Message] = []
    for t, body in replies:
        if t == "E":
            body = b"\0".join(
                _ID_IN_DETAIL.sub(lambda m: m[1] + str(back(int(m[2]))).encode(), f)
                if f[:1] == b"D" else f for f in body.split(b"\0"))
        elif t == "D" and first_column:
            row = data_row(body)
            if row and row[0] is not None and row[0].isdigit():
                row[0] = str(back(int(row[0]))).encode()
                body = _encode_row(row)
        out.append((t, body))
    return out


class Pair:
    """One client on the lane server and one on the general server, each on its own rows."""

    def __init__(self, lane: RawClient, general: RawClient,
                 offsets: Offsets = (0, SHIFT)) -> None:
        self.lane, self.general = lane, general
        self.offsets = offsets

    def same(self, *parts: Part, first_column: bool = False) -> list[Message]:
        """Sends parts to both (in ONE send each); the replies must be identical (row ids in
        error details, and in the first column with `first_column`, mapped back)."""
        a, b = _build(parts, self.offsets[0]), _build(parts, self.offsets[1])
        self.lane.send(a)
        self.general.send(b)
        got = _read(self.lane, _ends(a))
        want = unshift(_read(self.general, _ends(b)), self.offsets, first_column)
        assert got == want, (a, b)
        return got

    def steps(self, steps: Sequence[Part | Sequence[Part]], first_column: bool = False
              ) -> list[list[Message]]:
        """Each step (a part, or parts sent together) through same(); the replies."""
        return [self.same(*(s if isinstance(s, (list, tuple)) else (s,)),
                          first_column=first_column) for s in steps]


def errors(replies: Sequence[Message]) -> list[dict[str, str]]:
    return [fields(b) for t, b in replies if t == "E"]


def values(replies: Sequence[Message]) -> list[list[str | None]]:
    return [[None if v is None else v.decode() for v in data_row(b)]
            for t, b in replies if t == "D"]


def status(replies: Sequence[Message]) -> bytes:
    assert replies and replies[-1][0] == "Z", replies
    return replies[-1][1]


def sql(c: RawClient, text: str) -> list[list[str | None]]:
    """A simple Query that must succeed; its rows as text."""
    c.send(query(text))
    got = c.read_until_ready()
    assert not errors(got), (text, errors(got))
    return values(got)


def connect(srv: ServerThread, **params: str) -> RawClient:
    c = RawClient(srv.host, srv.port)
    c.startup(**params)
    return c


# -- the bank: tables, statements and a model of each test's rows ---------------------------------

@dataclass
class Model:
    """What both sides' rows must be (ids without the side's offset)."""

    acct: dict[int, list[int | None]] = field(default_factory=lambda: {
        i: [None if i == NULL_ACCOUNT else 1000, 0] for i in range(1, ACCOUNTS + 1)})
    teller: dict[int, int] = field(default_factory=lambda: dict.fromkeys(
        range(1, TELLERS + 1), 0))
    branch: dict[int, int] = field(default_factory=lambda: {1: 0})
    hist: list[tuple[int, int, int, int]] = field(default_factory=list)  # tid, bid, aid, delta
    log: dict[int, tuple[int, int]] = field(default_factory=dict)  # id -> aid, delta
    k2: dict[tuple[int, int], list[int]] = field(default_factory=lambda: {
        (i, 10 * i): [0, 0] for i in range(1, 4)})

    def add(self, aid: int, delta: int | None, n: int = 0) -> None:
        bal = self.acct[aid][0]
        self.acct[aid][0] = None if bal is None or delta is None else bal + delta
        self.acct[aid][1] = int(self.acct[aid][1] or 0) + n

    def tpcb(self, aid: int, tid: int, bid: int, delta: int) -> None:
        self.add(aid, delta)
        self.teller[tid] += delta
        self.branch[bid] += delta
        self.hist.append((tid, bid, aid, delta))


class Bank:
    """TPC-B-shaped tables (names prefixed), a test's own rows in them for each side (at
    `offsets`), the statements and the model."""

    def __init__(self, prefix: str) -> None:
        self.p = p = prefix
        base = BASE_STEP * next(_bases)
        self.offsets: Offsets = (base, base + SHIFT)
        self.model = Model()
        self.statements = {
            "begin": "BEGIN",
            "start": "START TRANSACTION",
            "end": "END",
            "commit": "COMMIT",
            "rollback": "ROLLBACK",
            "upd": f"UPDATE {p}acct SET bal = bal + $1 WHERE id = $2",
            "sel": f"SELECT bal FROM {p}acct WHERE id = $1",
            "upd_t": f"UPDATE {p}teller SET bal = bal + $1 WHERE id = $2",
            "upd_b": f"UPDATE {p}branch SET bal = bal + $1 WHERE id = $2",
            "ins": f"INSERT INTO {p}hist (tid, bid, aid, delta, mtime) "
                   "VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)",
            "upd2": f"UPDATE {p}acct SET bal = bal + $1, n = n + $2 WHERE id = $3",
            "ins_log": f"INSERT INTO {p}log (id, aid, delta, mtime) VALUES ($1, $2, $3, now())",
            "upd_k": f"UPDATE {p}k2 SET v = v + $1, w = w + $2 WHERE a = $3 AND b = $4",
            "sel_k": f"SELECT v, w FROM {p}k2 WHERE a = $1 AND b = $2",
            "sel_all": f"SELECT * FROM {p}acct WHERE id = $1",
            "sum": f"SELECT sum(bal) FROM {p}acct WHERE id BETWEEN $1 AND $2",
            "dbl": f"UPDATE {p}acct SET bal = bal * 2 WHERE id = $1",
        }

    @classmethod
    def own(cls, c: RawClient) -> Bank:
        """A bank with tables of its own (for tests that change them)."""
        b = cls(f"b{next(_tables)}_")
        b.create_tables(c)
        b.insert_rows(c)
        return b

    def create_tables(self, c: RawClient) -> None:
        p = self.p
        for text in (
                f"CREATE TABLE {p}acct (id int PRIMARY KEY, bal int, n bigint)",
                f"CREATE TABLE {p}teller (id int PRIMARY KEY, bal int)",
                f"CREATE TABLE {p}branch (id int PRIMARY KEY, bal bigint)",
                f"CREATE TABLE {p}hist (tid int, bid int, aid int, delta int, mtime timestamp)",
                f"CREATE TABLE {p}log (id bigint PRIMARY KEY, aid int, delta int, "
                "mtime timestamptz)",
                f"CREATE TABLE {p}k2 (a int, b bigint, v int, w smallint, PRIMARY KEY (a, b))"):
            sql(c, text)

    def insert_rows(self, c: RawClient) -> None:
        p, m, sides = self.p, self.model, self.offsets
        sql(c, f"INSERT INTO {p}acct VALUES " + ", ".join(
            f"({i + o}, {'NULL' if bal is None else bal}, {n})"
            for o in sides for i, (bal, n) in m.acct.items()))
        sql(c, f"INSERT INTO {p}teller VALUES " + ", ".join(
            f"({i + o}, 0)" for o in sides for i in m.teller))
        sql(c, f"INSERT INTO {p}branch VALUES " + ", ".join(f"({1 + o}, 0)" for o in sides))
        sql(c, f"INSERT INTO {p}k2 VALUES " + ", ".join(
            f"({a + o}, {b}, 0, 0)" for o in sides for a, b in m.k2))

    def prepare(self, c: RawClient) -> None:
        """Parse every statement on one connection (no parameter types: the server infers,
        as for pgbench -M prepared)."""
        data = b"".join(parse(n, s) for n, s in self.statements.items()) + SYNC
        got = run(c, 0, data)
        assert not errors(got), errors(got)

    def prepare_pair(self, pair: Pair) -> None:
        pair.same(*(parse(n, s) for n, s in self.statements.items()), SYNC)

    def verify(self, c: RawClient, offsets: Sequence[int] = ()) -> None:
        """Both sides' rows (or those at `offsets`), read through `c`, are the model's."""
        p, m = self.p, self.model

        def ints(r: list[str | None]) -> tuple[int | None, ...]:
            return tuple(None if v is None else int(v) for v in r)

        def rows(cols: str, table: str, key: str, o: int) -> list[tuple[int | None, ...]]:
            return sorted(ints(r) for r in sql(
                c, f"SELECT {cols} FROM {p}{table} WHERE {key} > {o} AND {key} <= {o + SPAN}"))

        for o in offsets or self.offsets:
            assert rows("id, bal, n", "acct", "id", o) == [
                (i + o, b, n) for i, (b, n) in sorted(m.acct.items())], o
            assert rows("id, bal", "teller", "id", o) == [
                (i + o, b) for i, b in sorted(m.teller.items())], o
            assert rows("id, bal", "branch", "id", o) == [
                (i + o, b) for i, b in sorted(m.branch.items())], o
            assert rows("tid, bid, aid, delta", "hist", "tid", o) == sorted(
                (t + o, b + o, a + o, d) for t, b, a, d in m.hist), o
            assert rows("id, aid, delta", "log", "id", o) == [
                (i + o, a + o, d) for i, (a, d) in sorted(m.log.items())], o
            assert rows("a, b, v, w", "k2", "a", o) == [
                (a + o, b, v, w) for (a, b), (v, w) in sorted(m.k2.items())], o


def tpcb(aid: int, tid: int, bid: int, delta: int, begin: str = "begin",
         end: str = "end") -> list[Part]:
    """pgbench's TPC-B transaction, one group per statement."""
    return [grp(begin), grp("upd", delta, Row(aid)), grp("sel", Row(aid)),
            grp("upd_t", delta, Row(tid)), grp("upd_b", delta, Row(bid)),
            grp("ins", Row(tid), Row(bid), Row(aid), delta), grp(end)]


def _is_ok(replies: list[list[Message]]) -> None:
    for r in replies:
        assert not errors(r), errors(r)


# -- fixtures -------------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=["threads", "loop"])
def servers(request: pytest.FixtureRequest) -> Iterator[Servers]:
    """The lane in each connection's thread (the default) and on the event loop
    (--no-connection-threads); the general server shares the Database."""
    with lane_and_general(request.param == "threads") as servers:
        yield servers


@pytest.fixture(scope="module")
def schema(servers: Servers) -> str:
    """The bank tables most tests share (each test has rows of its own in them)."""
    with connect(servers[1]) as c:
        Bank("s_").create_tables(c)
    return "s_"


@pytest.fixture
def pair(servers: Servers) -> Iterator[Pair]:
    lane, general, _ = servers
    with RawClient(lane.host, lane.port) as a, RawClient(general.host, general.port) as b:
        a.startup()
        b.startup()
        yield Pair(a, b)


@pytest.fixture
def admin(servers: Servers) -> Iterator[RawClient]:
    """A connection to the general server for setup and checks."""
    with connect(servers[1]) as c:
        yield c


def shared_bank(schema: str, admin: RawClient) -> Bank:
    b = Bank(schema)
    b.insert_rows(admin)
    return b


@pytest.fixture
def bank(schema: str, pair: Pair, admin: RawClient) -> Bank:
    """Fresh rows for both sides, the statements prepared on the pair, and one TPC-B
    transaction run (so that each of its statements ran once on the general path)."""
    b = shared_bank(schema, admin)
    pair.offsets = b.offsets
    b.prepare_pair(pair)
    _is_ok(pair.steps(tpcb(1, 1, 1, 5)))
    b.model.tpcb(1, 1, 1, 5)
    return b


def served(servers: Servers) -> int:
    return int(servers[2].fast_path().served)  # type: ignore[attr-defined]


def assert_served(servers: Servers, before: int, groups: int) -> None:
    """Every one of `groups` groups since `before` was served by the lane in thread mode. On
    the event loop transactions stay on the general path (the lane's waits, for a snapshot or
    a commit's fsync, would hold the loop and the GIL): none of them is served there."""
    n = served(servers) - before
    if servers[0].config.connection_threads:
        assert n >= groups, f"the lane served {n} of {groups} groups"
    else:
        assert n == 0, f"the lane served {n} groups of transactions on the event loop"


# -- 1. byte-for-byte replies ---------------------------------------------------------------------

def _utc(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc).timestamp()


def test_tpcb_transactions_reply_byte_for_byte(pair: Pair, admin: RawClient, bank: Bank) -> None:
    """Twelve TPC-B transactions (one in ten on the NULL-balance account), each with a second
    history row marking its round and a row in a table with a primary key stamped by now():
    identical replies, the model's rows at the end, and every transaction's time inside its
    wall-clock window and the same for all its statements."""
    assert pair.lane.params["TimeZone"] == "UTC"
    rng = random.Random(7)
    deltas = rng.sample(range(-5000, 5001), 12)
    windows: dict[int, tuple[float, float]] = {}
    for r, delta in enumerate(deltas):
        aid, tid = rng.randint(1, ACCOUNTS), rng.randint(1, TELLERS)
        steps = tpcb(aid, tid, 1, delta)
        steps[-1:-1] = [grp("ins", Row(tid), Row(1), Row(-r - 1), 0),  # the round's marker
                        grp("ins_log", Row(100 + r), Row(aid), delta)]
        t0 = time.time()
        replies = pair.steps(steps)
        t1 = time.time()
        _is_ok(replies)
        assert [status(x) for x in replies] == [b"T"] * 8 + [b"I"]
        bal = bank.model.acct[aid][0]
        assert values(replies[2]) == [[None if bal is None else str(bal + delta)]]
        bank.model.tpcb(aid, tid, 1, delta)
        bank.model.hist.append((tid, 1, -r - 1, 0))
        bank.model.log[100 + r] = (aid, delta)
        windows[r] = (t0, t1)
    bank.verify(admin)
    for o in bank.offsets:
        rows = sql(admin, f"SELECT aid, delta, mtime FROM {bank.p}hist "
                          f"WHERE tid > {o} AND tid <= {o + SPAN}")
        mtime = {int(d or 0): _utc(str(m)) for a, d, m in rows if int(a or 0) > o}
        marks = {o - int(a or 0) - 1: _utc(str(m)) for a, d, m in rows if int(a or 0) <= o}
        logged = {int(str(i)) - o - 100: dt.datetime.fromisoformat(str(m)).timestamp()
                  for i, m in sql(admin, f"SELECT id, mtime FROM {bank.p}log "
                                         f"WHERE id > {o} AND id <= {o + SPAN}")}
        for r, delta in enumerate(deltas):
            t0, t1 = windows[r]
            assert t0 - MTIME_SLACK_S <= mtime[delta] <= t1 + MTIME_SLACK_S, (o, r)
            assert marks[r] == mtime[delta] == logged[r], (o, r)


# -- 2. the lane is really used -------------------------------------------------------------------

SHAPES = ["tpcb", "start-transaction-commit", "two-column-update", "composite-key",
          "insert-with-pk-and-now", "inserts-only", "read-only"]


def _shape_round(shape: str, rng: random.Random, m: Model, r: int) -> list[Part]:
    """One transaction of a lane-supported shape (never on the NULL account); applies it to the
    model."""
    aid, tid, delta = rng.randint(1, ACCOUNTS - 1), rng.randint(1, TELLERS), rng.randint(-99, 99)
    if shape in ("tpcb", "start-transaction-commit"):
        m.tpcb(aid, tid, 1, delta)
        return tpcb(aid, tid, 1, delta, *(("start", "commit") if shape != "tpcb" else ()))
    if shape == "two-column-update":
        m.add(aid, delta, 1)
        m.add(aid, 1)
        return [grp("begin"), grp("upd2", delta, 1, Row(aid)), grp("upd", 1, Row(aid)),
                grp("sel", Row(aid)), grp("end")]
    if shape == "composite-key":
        a = rng.randint(1, 3)
        m.k2[a, 10 * a][0] += delta
        m.k2[a, 10 * a][1] += 1
        return [grp("begin"), grp("upd_k", delta, 1, Row(a), 10 * a), grp("sel_k", Row(a), 10 * a),
                grp("end")]
    if shape == "insert-with-pk-and-now":
        m.add(aid, delta)
        m.log[100 + r] = (aid, delta)
        return [grp("begin"), grp("upd", delta, Row(aid)), grp("ins_log", Row(100 + r), Row(aid),
                                                               delta), grp("end")]
    if shape == "inserts-only":
        m.hist += [(tid, 1, aid, delta), (tid, 1, aid, -delta)]
        return [grp("begin"), grp("ins", Row(tid), Row(1), Row(aid), delta),
                grp("ins", Row(tid), Row(1), Row(aid), -delta), grp("commit")]
    assert shape == "read-only", shape
    return [grp("start"), grp("sel", Row(aid)), grp("sel", Row(ACCOUNTS + 5)),
            grp("sel_k", Row(1), 10), grp("end")]


@pytest.mark.parametrize("shape", SHAPES)
def test_lane_serves_whole_transactions(servers: Servers, pair: Pair, admin: RawClient,
                                        bank: Bank, shape: str) -> None:
    """Two warm-up rounds register every statement; then every group of five more rounds is
    answered by the lane (thread mode), with replies identical to the general path's."""
    rng = random.Random(shape)
    for r in range(2):
        _is_ok(pair.steps(_shape_round(shape, rng, bank.model, r)))
    before, groups = served(servers), 0
    for r in range(2, 7):
        steps = _shape_round(shape, rng, bank.model, r)
        replies = pair.steps(steps)
        _is_ok(replies)
        assert status(replies[-1]) == b"I" and {status(x) for x in replies[:-1]} == {b"T"}
        groups += len(steps)
    assert_served(servers, before, groups)
    bank.verify(admin)


def test_lane_serves_up_to_a_handover_and_after_the_block(servers: Servers, pair: Pair,
                                                         admin: RawClient, bank: Bank) -> None:
    """The lane answers a transaction's groups until one it does not do (an unregistered
    prepared statement) hands the block to the general path; a later transaction is again
    answered whole."""
    before = served(servers)
    _is_ok(pair.steps([grp("begin"), grp("upd", 3, Row(2)), grp("sel", Row(2))]))
    assert_served(servers, before, 3)
    _is_ok(pair.steps([grp("sum", Row(1), Row(ACCOUNTS)), grp("upd_t", 3, Row(2)),
                       grp("upd_b", 3, Row(1)), grp("ins", Row(2), Row(1), Row(2), 3),
                       grp("end")]))
    bank.model.tpcb(2, 2, 1, 3)
    _is_ok(pair.steps(tpcb(3, 1, 1, 4)))  # (may register again what the handover dropped)
    before = served(servers)
    _is_ok(pair.steps(tpcb(4, 1, 1, 6)))
    assert_served(servers, before, 7)
    bank.model.tpcb(3, 1, 1, 4)
    bank.model.tpcb(4, 1, 1, 6)
    bank.verify(admin)


# -- 3. own writes and snapshot isolation ---------------------------------------------------------

def test_own_writes_visible_others_see_them_only_after_commit(
        servers: Servers, pair: Pair, admin: RawClient, bank: Bank) -> None:
    """A (in a lane transaction) reads its own UPDATE; B (another connection on the same
    server) reads the old value until A commits; A keeps its BEGIN snapshot for a row B
    changes meanwhile."""
    lane, general, _ = servers
    with connect(lane) as b_lane, connect(general) as b_general:
        other = Pair(b_lane, b_general, bank.offsets)
        bank.prepare_pair(other)
        _is_ok(other.steps([grp("sel", Row(2)), grp("upd", 0, Row(3))]))  # registers
        m = bank.model.acct
        a2, a3 = int(m[2][0] or 0), int(m[3][0] or 0)
        _is_ok(pair.steps([grp("begin"), grp("sel", Row(2))]))
        r = pair.steps([grp("upd", 7, Row(2)), grp("sel", Row(2))])
        assert values(r[1]) == [[str(a2 + 7)]]
        assert values(other.same(grp("sel", Row(2)))) == [[str(a2)]]  # not yet
        _is_ok(other.steps([grp("upd", 3, Row(3))]))  # B commits a change to row 3
        assert values(pair.same(grp("sel", Row(3)))) == [[str(a3)]]  # A's snapshot
        assert values(pair.same(sq(lambda o: f"SELECT bal FROM {bank.p}acct "
                                             f"WHERE id = {2 + o}"))) == [[str(a2 + 7)]]
        r = pair.same(grp("end"))
        assert status(r) == b"I" and not errors(r)
        assert values(other.same(grp("sel", Row(2)))) == [[str(a2 + 7)]]
        assert values(pair.same(grp("sel", Row(3)))) == [[str(a3 + 3)]]
    bank.model.add(2, 7)
    bank.model.add(3, 3)
    bank.verify(admin)


# -- 4. conflicts ---------------------------------------------------------------------------------

RACES = ["lane-vs-lane", "lane-vs-autocommit-update", "general-txn-wins-over-lane",
         "lane-wins-over-general-txn"]


def _race(srv: ServerThread, bank: Bank, race: str, row: int) -> list[list[Message]]:
    """Two connections to `srv` write row `row` (lane statements warmed up on both); the
    second committer must get 40001. Returns every reply in order."""
    p, o = bank.p, bank.offsets[0]  # both servers race on the lane side's rows
    out: list[list[Message]] = []
    with connect(srv) as a, connect(srv) as b:
        for c, warm in ((a, 7), (b, 8)):  # a committed transaction on a row of its own
            bank.prepare(c)
            for s in tpcb(warm, 1, 1, 0):
                out.append(run(c, o, s))
        sql(a, f"UPDATE {p}acct SET bal = 1000 WHERE id = {row + o}")
        upd = f"UPDATE {p}acct SET bal = bal + 100 WHERE id = {row + o}"
        if race == "lane-vs-lane":
            script: list[tuple[RawClient, Part]] = [
                (a, grp("begin")), (a, grp("upd", 1, Row(row))), (a, grp("sel", Row(row))),
                (b, grp("begin")), (b, grp("upd", 2, Row(row))), (b, grp("sel", Row(row))),
                (b, grp("ins", Row(1), Row(1), Row(row), 2)),
                (a, grp("end")), (b, grp("sel", Row(row))), (b, grp("end")),
                (b, grp("sel", Row(row)))]
        elif race == "lane-vs-autocommit-update":
            script = [(b, grp("begin")), (b, grp("upd", 2, Row(row))),
                      (b, grp("ins", Row(1), Row(1), Row(row), 2)), (a, query(upd)),
                      (b, grp("sel", Row(row))), (b, grp("end")), (b, grp("sel", Row(row)))]
        elif race == "general-txn-wins-over-lane":
            script = [(b, grp("begin")), (b, grp("upd", 2, Row(row))),
                      (a, query("BEGIN")), (a, query(upd)), (a, query("COMMIT")),
                      (b, grp("upd_t", 2, Row(1))), (b, grp("end")), (b, grp("sel", Row(row)))]
        else:
            assert race == "lane-wins-over-general-txn", race
            script = [(a, query("BEGIN")), (a, query(upd)),
                      (b, grp("begin")), (b, grp("upd", 2, Row(row))), (b, grp("end")),
                      (a, query("COMMIT")), (a, grp("sel", Row(row)))]
        for c, s in script:
            out.append(run(c, o, s))
    return out


@pytest.mark.parametrize("race", RACES)
def test_second_committer_gets_the_general_paths_40001(servers: Servers, schema: str,
                                                       admin: RawClient, race: str) -> None:
    """The same race on the same row, first on the lane server, then on the general server:
    every reply identical (the ErrorResponse's fields included), status 'I' after the 40001,
    the winner's value durable, nothing of the loser's transaction left."""
    lane, general, _ = servers
    bank = shared_bank(schema, admin)
    p, o = bank.p, bank.offsets[0]
    on_lane = _race(lane, bank, race, 2)
    after_lane = sql(admin, f"SELECT bal FROM {p}acct WHERE id = {2 + o}")
    hist_lane = sql(admin, f"SELECT count(*) FROM {p}hist WHERE aid = {2 + o}")
    on_general = _race(general, bank, race, 2)
    assert len(on_lane) == len(on_general)
    for x, y in zip(on_lane, on_general, strict=True):
        assert x == y
    failed = [r for r in on_lane if errors(r)]
    assert len(failed) == 1, failed
    e = errors(failed[0])[0]
    assert (e["S"], e["V"], e["C"], e["M"]) == ("ERROR", "ERROR", "40001", CONFLICT)
    assert status(failed[0]) == b"I"
    winner = {"lane-vs-lane": 1001, "lane-vs-autocommit-update": 1100,
              "general-txn-wins-over-lane": 1100, "lane-wins-over-general-txn": 1002}[race]
    assert after_lane == [[str(winner)]]
    assert sql(admin, f"SELECT bal FROM {p}acct WHERE id = {2 + o}") == [[str(winner)]]
    assert hist_lane == [["0"]]
    assert sql(admin, f"SELECT count(*) FROM {p}hist WHERE aid = {2 + o}") == [["0"]]
    assert sql(admin, f"SELECT bal FROM {p}teller WHERE id = {1 + o}") == [["0"]]


# -- 5. handover mid-transaction ------------------------------------------------------------------

Steps = list[Part | list[Part]]


def _rollback_steps(how: Part) -> tuple[Steps, bool]:
    steps: Steps = [*tpcb(2, 2, 1, 11)[:-1], how]
    return steps, False


Scenario = Callable[[Bank], tuple[Steps, bool]]
HANDOVERS: dict[str, Scenario] = {}


def handover(name: str) -> Callable[[Scenario], Scenario]:
    """Registers a scenario: its steps, and whether its transaction commits."""
    def reg(fn: Scenario) -> Scenario:
        HANDOVERS[name] = fn
        return fn
    return reg


@handover("simple-query-reads-own-writes")
def _h_simple(b: Bank) -> tuple[Steps, bool]:
    """Unregistered simple Queries mid-transaction see the lane's buffered writes; lane
    statements continue after them."""
    p = b.p
    return [grp("begin"), grp("upd", 11, Row(2)), grp("sel", Row(2)),
            sq(lambda o: f"SELECT count(*), sum(delta) FROM {p}hist "
                         f"WHERE tid > {o} AND tid <= {o + SPAN}"),
            sq(lambda o: f"SELECT bal FROM {p}acct WHERE id = {2 + o}"),
            grp("upd_t", 11, Row(2)), grp("upd_b", 11, Row(1)),
            grp("ins", Row(2), Row(1), Row(2), 11), grp("sel", Row(2)), grp("end")], True


@handover("unregistered-prepared-statements")
def _h_prepared(b: Bank) -> tuple[Steps, bool]:
    """A range SELECT sees the lane's writes; a general-path UPDATE (`bal * 2`) is seen by the
    lane's next read and write."""
    return [grp("begin"), grp("upd", 11, Row(2)), grp("sum", Row(1), Row(ACCOUNTS)),
            grp("dbl", Row(3)), grp("sel", Row(3)), grp("upd", 5, Row(3)), grp("sel", Row(3)),
            grp("upd_t", 11, Row(2)), grp("upd_b", 11, Row(1)),
            grp("ins", Row(2), Row(1), Row(2), 11), grp("end")], True


@handover("rollback-simple-query")
def _h_rollback_q(b: Bank) -> tuple[Steps, bool]:
    return _rollback_steps(query("ROLLBACK"))


@handover("rollback-prepared")
def _h_rollback_p(b: Bank) -> tuple[Steps, bool]:
    return _rollback_steps(grp("rollback"))


@handover("int4-overflow-then-25P02")
def _h_overflow(b: Bank) -> tuple[Steps, bool]:
    return [grp("begin"), grp("upd", 11, Row(2)), grp("upd", 2147483647, Row(3)),
            grp("sel", Row(2)), grp("upd_t", 1, Row(1)), query("SELECT 1"),
            grp("end")], False


@handover("int4-overflow-then-rollback")
def _h_overflow_rb(b: Bank) -> tuple[Steps, bool]:
    return [grp("begin"), grp("ins", Row(2), Row(1), Row(2), 11), grp("upd", 11, Row(2)),
            grp("upd", -2147483647, Row(3)), grp("upd", -2147483647, Row(3)),
            grp("rollback"), grp("sel", Row(2))], False


@handover("update-of-a-null-balance")
def _h_null_row(b: Bank) -> tuple[Steps, bool]:
    return [grp("begin"), grp("upd", 11, Row(NULL_ACCOUNT)), grp("sel", Row(NULL_ACCOUNT)),
            grp("upd", 11, Row(2)), grp("sel", Row(2)), grp("end")], True


@handover("null-parameter")
def _h_null_param(b: Bank) -> tuple[Steps, bool]:
    return [grp("begin"), grp("upd", 11, Row(2)), grp("upd", None, Row(3)), grp("sel", Row(3)),
            grp("upd", 1, Row(3)), grp("end")], True


@handover("non-integer-parameter-22P02")
def _h_abc(b: Bank) -> tuple[Steps, bool]:
    return [grp("begin"), grp("upd", 11, Row(2)), grp("upd", "abc", Row(3)), grp("sel", Row(2)),
            query("ROLLBACK"), grp("sel", Row(2))], False


@handover("parameter-out-of-range-22003")
def _h_big(b: Bank) -> tuple[Steps, bool]:
    return [grp("begin"), grp("upd", 11, Row(2)), grp("sel", "99999999999"),
            grp("sel", Row(2)), grp("end")], False


@handover("padded-and-signed-parameters")
def _h_padded(b: Bank) -> tuple[Steps, bool]:
    return [grp("begin"), grp("upd", " 5 ", Row(2)), grp("upd", "+6", Row(2)),
            grp("upd", "-0", Row(2)), grp("sel", Row(2)), grp("end")], True


@handover("binary-parameters-and-results")
def _h_binary(b: Bank) -> tuple[Steps, bool]:
    def bin_upd(o: int) -> bytes:
        return (bind("", "upd", [struct.pack("!i", 11), struct.pack("!i", 2 + o)], [1])
                + describe("P", "") + execute("") + SYNC)

    return [grp("begin"), bin_upd, grp("sel", Row(2), result_formats=[1]), grp("end")], True


@handover("describe-statement")
def _h_describe(b: Bank) -> tuple[Steps, bool]:
    def with_describe_s(o: int) -> bytes:
        return (bind("", "upd", [b"3", str(2 + o).encode()]) + describe("S", "upd")
                + execute("") + SYNC)

    return [grp("begin"), grp("upd", 11, Row(2)), [describe("S", "upd"), SYNC],
            with_describe_s, grp("sel", Row(2)), [describe("S", "ins"), SYNC],
            grp("ins", Row(2), Row(1), Row(2), 14), grp("end")], True


@handover("two-groups-in-one-send")
def _h_pipelined(b: Bank) -> tuple[Steps, bool]:
    t = tpcb(2, 2, 1, 11)
    return [t[0], [t[1], t[2]], t[3], [t[4], t[5], t[6]]], True


@handover("whole-transaction-in-one-send")
def _h_one_send(b: Bank) -> tuple[Steps, bool]:
    return [tpcb(2, 2, 1, 11)], True


@handover("error-in-a-pipelined-send")
def _h_pipelined_error(b: Bank) -> tuple[Steps, bool]:
    return [grp("begin"), [grp("upd", 11, Row(2)), grp("upd", "x", Row(2)), grp("sel", Row(2))],
            grp("end")], False


@handover("flush-before-sync")
def _h_flush(b: Bank) -> tuple[Steps, bool]:
    def flushed(o: int) -> bytes:
        return bind("", "sel", [str(2 + o).encode()]) + execute("") + FLUSH + SYNC

    return [grp("begin"), grp("upd", 11, Row(2)), flushed, grp("end")], True


@handover("row-limited-execute-and-named-portal")
def _h_portals(b: Bank) -> tuple[Steps, bool]:
    def limited(o: int) -> bytes:
        return bind("", "sel", [str(2 + o).encode()]) + execute("", 1) + SYNC

    def named(o: int) -> bytes:
        return bind("pt", "upd", [b"4", str(2 + o).encode()]) + execute("pt") + SYNC

    return [grp("begin"), grp("upd", 11, Row(2)), limited, named, grp("sel", Row(2)),
            grp("end")], True


@handover("missing-row")
def _h_missing(b: Bank) -> tuple[Steps, bool]:
    return [grp("begin"), grp("upd", 11, Row(ACCOUNTS + 5)), grp("sel", Row(ACCOUNTS + 5)),
            grp("upd", 11, Row(2)), grp("end")], True


@handover("duplicate-key-insert-23505")
def _h_dup(b: Bank) -> tuple[Steps, bool]:
    return [grp("begin"), grp("ins_log", Row(1), Row(2), 1), grp("end"),
            grp("begin"), grp("upd", 11, Row(2)), grp("ins_log", Row(2), Row(2), 11),
            grp("ins_log", Row(1), Row(2), 11), grp("sel", Row(2)), grp("end")], False


@handover("bare-sync-and-simple-commit")
def _h_sync(b: Bank) -> tuple[Steps, bool]:
    return [grp("begin"), SYNC, grp("upd", 11, Row(2)), [SYNC, SYNC], grp("sel", Row(2)),
            query("COMMIT")], True


@handover("ddl-inside-the-block-is-refused")
def _h_ddl(b: Bank) -> tuple[Steps, bool]:
    return [grp("begin"), grp("upd", 11, Row(2)),
            sq(lambda o: f"CREATE TABLE {b.p}nope{o} (id int PRIMARY KEY)"), grp("sel", Row(2)),
            grp("end")], False


@handover("close-statement-mid-transaction")
def _h_close(b: Bank) -> tuple[Steps, bool]:
    """A statement closed inside a lane transaction is never served again under its name."""
    return [grp("begin"), grp("upd", 11, Row(2)), [close("S", "upd"), SYNC],
            grp("upd", 5, Row(3)), grp("sel", Row(2)), grp("end"),
            [parse("upd", b.statements["upd"]), SYNC]], False


@handover("deallocate-mid-transaction")
def _h_deallocate(b: Bank) -> tuple[Steps, bool]:
    return [grp("begin"), grp("upd", 11, Row(2)), query("DEALLOCATE upd"),
            grp("upd", 5, Row(3)), grp("sel", Row(2)), grp("end"),
            [parse("upd", b.statements["upd"]), SYNC]], False


@handover("set-row-limit-mid-transaction")
def _h_set(b: Bank) -> tuple[Steps, bool]:
    """A lower row limit SET inside the block applies to the block's next writes."""
    return [grp("begin"), grp("upd", 11, Row(2)), query("SET dsql.max_transaction_rows = 2"),
            grp("upd_t", 11, Row(2)), grp("upd", 11, Row(3)), grp("sel", Row(2)), grp("end"),
            query("RESET dsql.max_transaction_rows")], False


def _expected_effects(name: str, m: Model) -> None:
    """The model after the scenario's transaction committed as a unit."""
    if name == "simple-query-reads-own-writes":
        m.tpcb(2, 2, 1, 11)
    elif name == "unregistered-prepared-statements":
        m.tpcb(2, 2, 1, 11)
        m.acct[3][0] = int(m.acct[3][0] or 0) * 2 + 5
    elif name == "update-of-a-null-balance":
        m.add(2, 11)
    elif name == "null-parameter":
        m.add(2, 11)
        m.acct[3][0] = None
    elif name == "padded-and-signed-parameters":
        m.add(2, 11)
    elif name == "binary-parameters-and-results":
        m.add(2, 11)
    elif name == "describe-statement":
        m.add(2, 14)
        m.hist.append((2, 1, 2, 14))
    elif name in ("two-groups-in-one-send", "whole-transaction-in-one-send"):
        m.tpcb(2, 2, 1, 11)
    elif name in ("flush-before-sync", "missing-row", "bare-sync-and-simple-commit"):
        m.add(2, 11)
    elif name == "row-limited-execute-and-named-portal":
        m.add(2, 15)
    elif name == "duplicate-key-insert-23505":
        m.log[1] = (2, 1)  # the first transaction only
    else:
        raise AssertionError(f"no effects listed for {name}")


def _status_after_first_error(replies: list[list[Message]]) -> bytes:
    flat = [m for r in replies for m in r]
    first = next(i for i, (t, _) in enumerate(flat) if t == "E")
    return next(b for t, b in flat[first:] if t == "Z")


@pytest.mark.parametrize("name", list(HANDOVERS))
def test_handover_mid_transaction(pair: Pair, admin: RawClient, bank: Bank, name: str) -> None:
    """After lane statements, something the lane does not do: every reply identical to the
    general path's, and the transaction's effects all there (committed) or none (rolled back
    or aborted); the connection then runs lane transactions again."""
    steps, commits = HANDOVERS[name](bank)
    replies = pair.steps(steps)
    codes = [e["C"] for r in replies for e in errors(r)]
    if commits or name.startswith("rollback"):
        assert not codes, codes
        if commits:
            _expected_effects(name, bank.model)
    else:  # the first error aborts the block: 25P02 until it ends, which rolls it back
        assert codes and codes[0] != "25P02" and set(codes[1:]) <= {"25P02"}, codes
        assert _status_after_first_error(replies) == b"E"
        assert any(("C", b"ROLLBACK\0") in r for r in replies), replies
        if name == "duplicate-key-insert-23505":  # (a first transaction committed)
            _expected_effects(name, bank.model)
    assert status(replies[-1]) == b"I"
    _is_ok(pair.steps(tpcb(4, 3, 1, -3)))
    bank.model.tpcb(4, 3, 1, -3)
    bank.verify(admin)


def test_disconnect_mid_transaction_commits_nothing(servers: Servers, admin: RawClient,
                                                   bank: Bank) -> None:
    """A connection closed (Terminate, or just the socket) inside a lane transaction leaves
    nothing; the server goes on."""
    lane, _, _ = servers
    o = bank.offsets[0]
    for terminate in (True, False):
        c = connect(lane)
        bank.prepare(c)
        for s in tpcb(5, 2, 1, 1):
            assert not errors(run(c, o, s))
        bank.model.tpcb(5, 2, 1, 1)
        for s in tpcb(5, 2, 1, 1000)[:-1]:
            assert not errors(run(c, o, s))
        if terminate:
            c.send(TERMINATE)
        c.close()
    time.sleep(0.1)  # (the server ends the sessions asynchronously)
    with connect(lane) as c:  # the lane server still answers, and sees nothing of them
        got = run(c, o, query(f"SELECT bal FROM {bank.p}acct WHERE id = {5 + o}"))
        assert values(got) == [[str(bank.model.acct[5][0])]]
    bank.verify(admin, (o,))


# -- tables the lane must not write ---------------------------------------------------------------

GUARDED = {
    "check-constraint": ("bal int CHECK (bal >= 0)", "", [5, -100000]),
    "unique-constraint": ("bal int UNIQUE", "", [5, 5]),
    "secondary-index": ("bal int", "CREATE INDEX {t}_bal ON {t} (bal)", [5, 5, 7]),
    "bigint-overflow": ("bal bigint", "", [5, 9223372036854775807]),
    "smallint-overflow": ("bal smallint", "", [5, 32767]),
    "numeric-column": ("bal numeric(12, 2)", "", [5, 7]),
}


@pytest.mark.parametrize("kind", list(GUARDED))
def test_tables_with_constraints_indexes_or_other_types(servers: Servers, admin: RawClient,
                                                        kind: str) -> None:
    """UPDATEs the lane must not do by itself (constraints to check, index entries to
    maintain, other column types, overflow), in transactions whose other statements it may
    serve. The same script runs on the lane server, then (the rows reset) on the general
    server: identical replies and final rows, and the index finds every row by its value."""
    coldef, extra, deltas = GUARDED[kind]
    t = f"g{next(_tables)}"
    sql(admin, f"CREATE TABLE {t} (id int PRIMARY KEY, {coldef})")
    if extra:
        sql(admin, extra.format(t=t))
    prepare = [parse("b", "BEGIN"), parse("e", "END"),
               parse("u", f"UPDATE {t} SET bal = bal + $1 WHERE id = $2"),
               parse("s", f"SELECT bal FROM {t} WHERE id = $1"),
               parse("by", f"SELECT id FROM {t} WHERE bal = $1"), SYNC]
    outcomes = []
    for srv in servers[:2]:
        sql(admin, f"DELETE FROM {t}")
        sql(admin, f"INSERT INTO {t} VALUES " + ", ".join(f"({i}, {i * 10})"
                                                          for i in range(1, 6)))
        with connect(srv) as c:
            replies = [run(c, 0, *prepare)]
            for _ in range(2):
                for d in deltas:
                    for step in (grp("b"), grp("u", 1, Row(2)), grp("u", d, Row(1)),
                                 grp("s", Row(1)), grp("by", 21), grp("s", Row(2)), grp("e")):
                        replies.append(run(c, 0, step))
        every = sql(admin, f"SELECT id, bal FROM {t} ORDER BY id")
        for bal in {b for _, b in every}:  # the index (if any) finds what a full scan finds
            got = sql(admin, f"SELECT id FROM {t} WHERE bal = {bal} ORDER BY id")
            assert got == [[i] for i, b in every if b == bal], bal
        outcomes.append((replies, every))
    assert outcomes[0][1] == outcomes[1][1]
    for x, y in zip(outcomes[0][0], outcomes[1][0], strict=True):
        assert x == y


# -- 6. catalog changes ---------------------------------------------------------------------------

def test_catalog_changes_between_and_during_lane_transactions(pair: Pair,
                                                             admin: RawClient) -> None:
    """ADD COLUMN (with a default), CREATE INDEX, DROP and re-CREATE of the history table, by
    another connection between the pair's transactions (no Parse or Query on the pair in
    between, so every plan the lane registered is still there, and stale) and inside an open
    one: replies identical; lane UPDATEs keep the new column's value, maintain the new index,
    insert into the new table; the transaction open across a DDL commits nothing; a `SELECT *`
    prepared at the end shows the new columns in and out of transactions."""
    bank = Bank.own(admin)
    pair.offsets = bank.offsets
    bank.prepare_pair(pair)
    p, m = bank.p, bank.model
    rounds = [(2, 1, 5), (3, 2, -7), (4, 3, 9)]

    def tx_rounds() -> None:
        for aid, tid, d in rounds:
            _is_ok(pair.steps(tpcb(aid, tid, 1, d)))
            m.tpcb(aid, tid, 1, d)

    tx_rounds()
    sql(admin, f"ALTER TABLE {p}acct ADD COLUMN note text DEFAULT 'x'")
    tx_rounds()
    tx_rounds()
    # a DDL while a lane transaction is open: the same outcome on both sides, nothing committed
    _is_ok(pair.steps([grp("begin"), grp("upd", 50, Row(2)), grp("sel", Row(2))]))
    sql(admin, f"ALTER TABLE {p}hist ADD COLUMN extra int")
    end = pair.steps([grp("upd_t", 50, Row(1)), grp("ins", Row(1), Row(1), Row(2), 50),
                      grp("sel", Row(2)), grp("end")])
    assert status(end[-1]) == b"I"
    assert [e["C"] for e in errors(end[-1])] == ["40001"]
    tx_rounds()
    _is_ok(pair.steps([grp("begin"), grp("upd", 60, Row(3))]))  # the table it writes
    sql(admin, f"ALTER TABLE {p}acct ADD COLUMN note2 int")
    end = pair.steps([grp("upd", 60, Row(3)), grp("sel", Row(3)), grp("end")])
    assert [e["C"] for e in errors(end[-1])] == ["40001"] and status(end[-1]) == b"I"
    tx_rounds()
    sql(admin, f"CREATE INDEX {p}acct_bal ON {p}acct (bal)")
    tx_rounds()
    for o in bank.offsets:  # the index finds every balance the lane wrote
        for i, (bal, _) in m.acct.items():
            if bal is not None:
                got = sql(admin, f"SELECT id, note FROM {p}acct WHERE bal = {bal} "
                                 f"AND id > {o} AND id <= {o + SPAN}")
                assert [str(i + o), "x"] in got, (o, i, bal)
    sql(admin, f"DROP TABLE {p}hist")
    sql(admin, f"CREATE TABLE {p}hist (tid bigint, bid int, aid int, delta bigint, "
               "mtime timestamptz, extra text)")
    m.hist.clear()
    tx_rounds()
    tx_rounds()
    bank.verify(admin)
    assert sql(admin, f"SELECT DISTINCT note FROM {p}acct") == [["x"]]
    pair.same(parse("star", f"SELECT * FROM {p}acct WHERE id = $1"), SYNC)
    for _ in range(3):
        _is_ok(pair.steps([grp("begin"), grp("star", Row(2)), grp("upd", 1, Row(2)),
                           grp("star", Row(2)), grp("end"), grp("star", Row(3))],
                          first_column=True))
        m.add(2, 1)
    bank.verify(admin)


def test_select_star_prepared_before_add_column(pair: Pair, admin: RawClient) -> None:
    """A `SELECT *` prepared (and run in and out of lane transactions) before ADD COLUMN, run
    again after it: as in PostgreSQL it fails with 0A000 (its result type changed), on the lane
    side exactly as on the general path, every time it runs."""
    bank = Bank.own(admin)
    pair.offsets = bank.offsets
    bank.prepare_pair(pair)
    tx = [grp("begin"), grp("upd", 1, Row(2)), grp("sel_all", Row(2)), grp("end")]
    for _ in range(2):
        _is_ok(pair.steps([*tx, grp("sel_all", Row(3))], first_column=True))
    sql(admin, f"ALTER TABLE {bank.p}acct ADD COLUMN note text DEFAULT 'x'")
    for _ in range(3):
        replies = pair.steps([*tx, grp("sel_all", Row(3))], first_column=True)
        codes = [e["C"] for r in replies for e in errors(r)]
        assert codes == ["0A000", "0A000"], codes  # in the block (END then rolls back), alone
        assert any(("C", b"ROLLBACK\0") in r for r in replies), replies


# -- 7. limits ------------------------------------------------------------------------------------

LIMITS = ["rows-by-set", "rows-by-startup-option", "bytes-by-set", "age-by-set"]


@pytest.mark.parametrize("limit", LIMITS)
def test_lane_transactions_keep_the_session_limits(servers: Servers, schema: str,
                                                   admin: RawClient, limit: str) -> None:
    """A session limit (dsql.max_transaction_rows / _bytes / _age_s) that a lane transaction
    exceeds: the same 54000 (message and hint) as the general path, at the same statement, then
    25P02, and nothing committed; a transaction within the limit commits."""
    lane, general, _ = servers
    opts = {"options": "-c dsql.max_transaction_rows=3"} if limit == "rows-by-startup-option" \
        else {}
    bank = shared_bank(schema, admin)
    with connect(lane, **opts) as a, connect(general, **opts) as b:
        pair = Pair(a, b, bank.offsets)
        setting = {"rows-by-set": "dsql.max_transaction_rows = 3",
                   "bytes-by-set": "dsql.max_transaction_bytes = 60",
                   "age-by-set": "dsql.max_transaction_age_s = 0.4"}.get(limit)
        if setting:
            pair.same(query(f"SET {setting}"))
        bank.prepare_pair(pair)
        within = [grp("begin"), grp("upd", 1, Row(1)), grp("upd", 1, Row(1)),
                  grp("upd_t", 1, Row(1)), grp("sel", Row(1)), grp("end")]
        for _ in range(3):  # registers, then runs in the lane
            _is_ok(pair.steps(within))
            bank.model.add(1, 2)
            bank.model.teller[1] += 1
        steps: list[Part] = [grp("begin"), grp("upd", 1, Row(2)), grp("upd_t", 1, Row(2))]
        if limit == "age-by-set":
            _is_ok(pair.steps(steps))
            time.sleep(0.5)
            steps = []
        steps += [grp("upd", 1, Row(i)) for i in range(3, 9)] + [grp("sel", Row(2)),
                                                                  grp("end")]
        replies = pair.steps(steps)
        codes = [e["C"] for r in replies for e in errors(r)]
        assert codes and codes[0] == "54000" and set(codes[1:]) == {"25P02"}, codes
        assert status(replies[-1]) == b"I"
        assert ("C", b"ROLLBACK\0") in replies[-1]
    bank.verify(admin)


# -- 8. durability --------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["threads", "loop"])
def test_acknowledged_lane_commits_survive_sigkill(tmp_path: Path, mode: str) -> None:
    """`dsql serve` (the lane on) runs lane transactions; after the last COMMIT is acknowledged
    it is SIGKILLed with another lane transaction still open; the data directory reopened by a
    new EngineBackend holds every acknowledged transaction and nothing of the open one."""
    extra = ("--no-connection-threads",) if mode == "loop" else ()
    srv = ServeProcess(tmp_path / "data", extra_args=extra, user="admin")
    bank = Bank("d_")
    o = bank.offsets[0]
    srv.start()
    try:
        with RawClient("127.0.0.1", srv.port) as c, RawClient("127.0.0.1", srv.port) as d:
            c.startup()
            d.startup()
            bank.create_tables(c)
            bank.insert_rows(c)
            bank.prepare(c)
            bank.prepare(d)
            rng = random.Random(mode)
            for _ in range(8):
                aid, tid, delta = rng.randint(1, 9), rng.randint(1, 3), rng.randint(-99, 99)
                for s in tpcb(aid, tid, 1, delta):
                    assert not errors(run(c, o, s))
                bank.model.tpcb(aid, tid, 1, delta)
            for s in tpcb(6, 1, 1, 0):  # registers d's statements
                assert not errors(run(d, o, s))
            bank.model.tpcb(6, 1, 1, 0)
            for s in tpcb(1, 1, 1, 0)[:-1] + [grp("upd", 555, Row(6))]:  # left open
                assert status(run(d, o, s)) == b"T"
            srv.kill()
    finally:
        srv.stop()
    roles = InMemoryRoleStore()
    roles.add("admin", None, superuser=True)
    backend = EngineBackend(tmp_path / "data")
    with ServerThread(ServerConfig(host="127.0.0.1", port=0, shutdown_timeout_s=2.0,
                                   fast_path=False), backend, roles, None) as again:
        with connect(again) as c:
            bank.verify(c, (o,))


# -- 9. real pgbench ------------------------------------------------------------------------------

PGBENCH = shutil.which("pgbench")
PGBENCH_ACCOUNTS, PGBENCH_TELLERS = 1000, 10
# pgbench's built-in tpcb-like script, with the ranges of a 1-branch, 10-teller, 1000-account
# database (the built-in one draws aid from 1..100000 * scale)
TPCB_SCRIPT = f"""\\set aid random(1, {PGBENCH_ACCOUNTS})
\\set bid random(1, 1)
\\set tid random(1, {PGBENCH_TELLERS})
\\set delta random(-5000, 5000)
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;
UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = :bid;
INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (:tid, :bid, :aid, :delta, \
CURRENT_TIMESTAMP);
END;
"""


@pytest.mark.skipif(PGBENCH is None, reason="pgbench is not installed")
def test_pgbench_tpcb_prepared_keeps_the_balances(servers: Servers, admin: RawClient,
                                                  tmp_path: Path) -> None:
    """pgbench -M prepared, 4 clients, 3 s, retrying serialization failures, against the lane
    server: every balance sum equals the sum of the history's deltas, and the history holds
    one row per transaction pgbench reports."""
    assert PGBENCH is not None
    lane = servers[0]
    for text in (
            "DROP TABLE IF EXISTS pgbench_accounts", "DROP TABLE IF EXISTS pgbench_tellers",
            "DROP TABLE IF EXISTS pgbench_branches", "DROP TABLE IF EXISTS pgbench_history",
            "CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, "
            "mtime timestamp, filler char(22))",
            "CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int, tbalance int, "
            "filler char(84))",
            "CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, "
            "filler char(84))",
            "CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int, filler char(88))",
            "INSERT INTO pgbench_branches (bid, bbalance) VALUES (1, 0)",
            f"INSERT INTO pgbench_tellers (tid, bid, tbalance) SELECT g, 1, 0 "
            f"FROM generate_series(1, {PGBENCH_TELLERS}) g",
            f"INSERT INTO pgbench_accounts (aid, bid, abalance, filler) SELECT g, 1, 0, '' "
            f"FROM generate_series(1, {PGBENCH_ACCOUNTS}) g"):
        sql(admin, text)
    script = tmp_path / "tpcb.sql"
    script.write_text(TPCB_SCRIPT)
    env = {"PATH": "/usr/bin:/bin", "PGCONNECT_TIMEOUT": "10"}
    out = subprocess.run(
        [PGBENCH, "-n", "-M", "prepared", "-c", "4", "-j", "2", "-T", "3", "--max-tries=100",
         "-f", str(script), "-h", lane.host, "-p", str(lane.port), "-U", "admin", "dsql"],
        capture_output=True, text=True, timeout=60, env=env, check=False)
    done = re.search(r"number of transactions actually processed: (\d+)", out.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    assert done is not None, out.stderr[-3000:] + out.stdout[-3000:]
    n = int(done.group(1))
    assert n > 0
    # Every transaction updates branch 1, so a client can lose 100 tries in a row: PostgreSQL
    # 15 at REPEATABLE READ does too (measured here: 2 and 4 failed of 4,000 with -c 4 and one
    # branch). Failures stay rare; a client whose retry is due when the time is up also counts.
    n_failed = 0 if failed is None else int(failed.group(1))
    assert out.returncode in (0, 2) and n_failed <= max(4, n // 100), \
        out.stderr[-3000:] + out.stdout[-3000:]
    sums = [sql(admin, f"SELECT coalesce(sum({col}), 0) FROM {table}")[0][0] for table, col in
            (("pgbench_accounts", "abalance"), ("pgbench_tellers", "tbalance"),
             ("pgbench_branches", "bbalance"), ("pgbench_history", "delta"))]
    assert len(set(sums)) == 1, sums
    assert sql(admin, "SELECT count(*) FROM pgbench_history") == [[str(n)]]
