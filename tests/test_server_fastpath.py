"""The server's C++ fast lane for primary-key point SELECTs (dsql/server/fastpath.py).

Goal: the fast lane is invisible to clients: for every message sequence it sends exactly the
bytes the general path sends, it is really used for the statements it supports, and it never
serves a stale plan (DDL, search_path, DEALLOCATE) or a stale row (a read after an
acknowledged UPDATE sees it). Method: two in-process servers over one data directory, one with
the fast lane (in connection threads, or on the event loop) and one without; a hand-written
protocol client sends each step to both and the replies must be identical byte for byte; the
database's served counter shows the lane ran.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterator

import pytest

from dsql.server.factory import EngineBackend
from dsql.server.runner import ServerThread
from engine_pair import lane_and_general
from pgwire_client import RawClient, bind, describe, execute, msg, parse, query

SETUP = [
    "CREATE TABLE acct (id int PRIMARY KEY, bal bigint, name text, flag boolean, "
    "note varchar(10), small smallint)",
    "INSERT INTO acct VALUES (1, 100, 'one', true, 'n1', 1), (2, -5, NULL, false, NULL, 2), "
    "(3, 9000000000, 'three', NULL, 'n3', NULL)",
    "CREATE TABLE k2 (a int, b bigint, v int, PRIMARY KEY (a, b))",
    "INSERT INTO k2 VALUES (1, 10, 110), (1, 20, 120), (2, 10, 210)",
    "CREATE TABLE money (id int PRIMARY KEY, amount numeric(10,2))",
    "INSERT INTO money VALUES (1, 12.50)",
]
SYNC = msg(b"S")


class Pair:
    """One client on the fast server and one on the general one, fed the same bytes."""

    def __init__(self, fast: RawClient, slow: RawClient) -> None:
        self.fast, self.slow = fast, slow

    def same(self, *data: bytes, rounds: int = 1) -> list[tuple[str, bytes]]:
        """Sends data to both `rounds` times (the first run registers); every reply must be
        identical. Returns the last reply."""
        got: list[tuple[str, bytes]] = []
        for _ in range(rounds):
            self.fast.send(*data)
            self.slow.send(*data)
            got = _until_ready(self.fast, data)
            assert got == _until_ready(self.slow, data), data
        return got


    def once(self, sql: str) -> None:
        """A statement that changes the shared database: run once, on the general server."""
        self.slow.send(query(sql))
        assert not [b for t, b in self.slow.read_until_ready() if t == "E"], sql


def _until_ready(c: RawClient, data: tuple[bytes, ...]) -> list[tuple[str, bytes]]:
    n = sum(1 for d in data for t in _types(d) if t in (b"Q", b"S"))
    out: list[tuple[str, bytes]] = []
    for _ in range(n):
        out += c.read_until_ready()
    return out


def _types(data: bytes) -> Iterator[bytes]:
    pos = 0
    while pos < len(data):
        yield data[pos:pos + 1]
        pos += 1 + struct.unpack("!i", data[pos + 1:pos + 5])[0]


@pytest.fixture(scope="module", params=["threads", "loop"])
def servers(request: pytest.FixtureRequest
            ) -> Iterator[tuple[ServerThread, ServerThread, EngineBackend]]:
    """The fast lane both ways: inside each connection's thread (the default), and on the
    event loop (--no-connection-threads)."""
    with lane_and_general(request.param == "threads") as (fast, slow, fast_backend):
        with RawClient(slow.host, slow.port) as c:
            c.startup()
            for sql in SETUP:
                c.send(query(sql))
                assert not [b for t, b in c.read_until_ready() if t == "E"], sql
        yield fast, slow, fast_backend


@pytest.fixture
def pair(servers: tuple[ServerThread, ServerThread, EngineBackend]) -> Iterator[Pair]:
    fast, slow, _ = servers
    with RawClient(fast.host, fast.port) as a, RawClient(slow.host, slow.port) as b:
        a.startup()
        b.startup()
        yield Pair(a, b)


def served(servers: tuple[ServerThread, ServerThread, EngineBackend]) -> int:
    return int(servers[2].fast_path().served)  # type: ignore[attr-defined]


def assert_served(servers: tuple[ServerThread, ServerThread, EngineBackend], before: int,
                  at_least: int) -> None:
    """At least `at_least` groups were served since `before`. Checked in thread mode, where a
    connection's thread registers a statement before it reads the next request. On the event
    loop the request after a general-path one may arrive while that job is still finishing
    and then takes the general path too (test_loop_mode_serves_most_requests covers it)."""
    if servers[0].config.connection_threads:
        assert served(servers) - before >= at_least


SIMPLE = [
    "SELECT bal, name, flag, note, small, id FROM acct WHERE id = 1",
    "SELECT bal, name, flag, note, small, id FROM acct WHERE id = 2",
    "SELECT bal, name, flag, note, small, id FROM acct WHERE id = 3;",
    "SELECT bal, name, flag, note, small, id FROM acct WHERE id = 4",        # no row
    "SELECT bal FROM acct WHERE id = 3000000000",                           # int8 literal
    "SELECT * FROM acct WHERE id = 2",
    "select name as who from acct where id=1",
    "SELECT v FROM k2 WHERE a = 1 AND b = 20",
    "SELECT v, b, a FROM k2 WHERE b = 10 AND a = 2",
    "SELECT amount FROM money WHERE id = 1",                                # numeric: general
    "SELECT bal FROM acct WHERE id = 1 AND bal > 0",                        # a filter: general
    "SELECT bal + 1 FROM acct WHERE id = 1",                                # an expression
    "SELECT bal FROM acct WHERE id = '1'",                                  # a string literal
]


@pytest.mark.parametrize("sql", SIMPLE)
def test_simple_query_replies_match_the_general_path(
        pair: Pair, servers: tuple[ServerThread, ServerThread, EngineBackend], sql: str) -> None:
    pair.same(query(sql), rounds=3)


def test_simple_point_queries_are_served_by_the_lane(
        pair: Pair, servers: tuple[ServerThread, ServerThread, EngineBackend]) -> None:
    pair.same(query("SELECT bal FROM acct WHERE id = 1"))  # registers
    before = served(servers)
    for i in (1, 2, 3, 4, 1):
        pair.same(query(f"SELECT bal FROM acct WHERE id = {i}"))
    # (the first may still find the registering job finishing: then the general path runs)
    assert_served(servers, before, 4)
    before = served(servers)
    pair.same(query("SELECT amount FROM money WHERE id = 1"), rounds=3)  # numeric output
    assert served(servers) == before


def _prepare(pair: Pair, name: str, sql: str, oids: tuple[int, ...] = ()) -> None:
    pair.same(parse(name, sql, oids), SYNC)


def test_prepared_groups_match_and_are_served(
        pair: Pair, servers: tuple[ServerThread, ServerThread, EngineBackend]) -> None:
    _prepare(pair, "p1", "SELECT bal, name, flag, note, small FROM acct WHERE id = $1")
    _prepare(pair, "p8", "SELECT id, bal FROM acct WHERE id = $1", (20,))
    _prepare(pair, "k", "SELECT v FROM k2 WHERE a = $2 AND b = $1")
    pair.same(bind("", "p1", [b"1"]), execute(""), SYNC)  # registers
    pair.same(bind("", "p8", [b"1"]), execute(""), SYNC)
    pair.same(bind("", "k", [b"10", b"1"]), execute(""), SYNC)
    before = served(servers)
    groups = [
        (bind("", "p1", [b"2"]), execute(""), SYNC),
        (bind("", "p1", [b" 3 "]), describe("P", ""), execute(""), SYNC),
        (bind("", "p1", [b"4"]), execute(""), SYNC),
        (bind("", "p1", [None]), execute(""), SYNC),
        (bind("", "p1", [struct.pack("!i", 1)], formats=[1], result_formats=[1]),
         describe("P", ""), execute(""), SYNC),
        (bind("", "p1", [b"1"], result_formats=[0, 1, 0, 1, 1]), describe("P", ""),
         execute(""), SYNC),
        (bind("", "p8", [b"3000000000"]), execute(""), SYNC),
        (bind("", "p8", [struct.pack("!q", 2)], formats=[1]), execute(""), msg(b"H"), SYNC),
        (bind("", "k", [b"20", b"1"]), execute(""), SYNC),
        (bind("", "p1", [b"1"]), execute(""), SYNC, bind("", "p1", [b"2"]), execute(""), SYNC),
    ]
    for g in groups:
        pair.same(*g)
    assert_served(servers, before, len(groups))


BAD = [
    (bind("", "p1", [b"abc"]), execute(""), SYNC),                 # 22P02
    (bind("", "p1", [b"99999999999"]), execute(""), SYNC),         # 22003
    (bind("", "p1", [b"1", b"2"]), execute(""), SYNC),             # 08P01 parameter count
    (bind("", "p1", [b"1"], result_formats=[0, 1]), execute(""), SYNC),
    (bind("", "p1", [b"1"]), execute("", 1), SYNC),                # a row limit
    (bind("", "nope", [b"1"]), execute(""), SYNC),                 # 26000
    (bind("x", "p1", [b"1"]), execute("x"), SYNC),                 # a named portal
    (bind("", "p1", [b"1"]), describe("S", "p1"), execute(""), SYNC),
]


@pytest.mark.parametrize("group", BAD, ids=[str(i) for i in range(len(BAD))])
def test_what_the_lane_refuses_gets_the_general_answer(pair: Pair, group: tuple[bytes, ...]
                                                       ) -> None:
    _prepare(pair, "p1", "SELECT bal, name FROM acct WHERE id = $1")
    pair.same(bind("", "p1", [b"1"]), execute(""), SYNC)
    pair.same(*group)
    pair.same(bind("", "p1", [b"2"]), execute(""), SYNC)  # and the connection goes on


def test_no_stale_plans_after_ddl_settings_or_deallocate(
        pair: Pair, servers: tuple[ServerThread, ServerThread, EngineBackend]) -> None:
    pair.once("CREATE TABLE t_ddl (id int PRIMARY KEY, v int)")
    pair.once("INSERT INTO t_ddl VALUES (1, 10), (2, 20)")
    _prepare(pair, "d", "SELECT * FROM t_ddl WHERE id = $1")
    pair.same(bind("", "d", [b"1"]), execute(""), SYNC, rounds=2)
    pair.same(query("SELECT * FROM t_ddl WHERE id = 1"), rounds=2)
    pair.once("ALTER TABLE t_ddl ADD COLUMN w text")
    pair.once("UPDATE t_ddl SET w = 'new' WHERE id = 2")
    for i in (b"1", b"2", b"1", b"2"):
        pair.same(bind("", "d", [i]), execute(""), SYNC)
        pair.same(query(f"SELECT * FROM t_ddl WHERE id = {i.decode()}"))
    pair.once("DROP TABLE t_ddl")
    pair.same(bind("", "d", [b"1"]), execute(""), SYNC)
    pair.same(query("SELECT * FROM t_ddl WHERE id = 1"))
    # search_path picks another table for the same text
    pair.once("CREATE SCHEMA other")
    pair.once("CREATE TABLE other.acct (id int PRIMARY KEY, bal bigint)")
    pair.once("INSERT INTO other.acct VALUES (1, 777)")
    pair.same(query("SELECT bal FROM acct WHERE id = 1"), rounds=2)
    pair.same(query("SET search_path TO other"))
    got = pair.same(query("SELECT bal FROM acct WHERE id = 1"), rounds=2)
    assert [b for t, b in got if t == "D"] == [struct.pack("!hi", 1, 3) + b"777"]
    pair.same(query("RESET search_path"))
    # DEALLOCATE, then the name is unknown; a new statement under it is served anew
    _prepare(pair, "g", "SELECT bal FROM acct WHERE id = $1")
    pair.same(bind("", "g", [b"1"]), execute(""), SYNC, rounds=2)
    pair.same(query("DEALLOCATE g"))
    pair.same(bind("", "g", [b"1"]), execute(""), SYNC)
    _prepare(pair, "g", "SELECT name FROM acct WHERE id = $1")
    pair.same(bind("", "g", [b"1"]), execute(""), SYNC, rounds=2)


def test_inside_a_transaction_block_the_general_path_runs(
        pair: Pair, servers: tuple[ServerThread, ServerThread, EngineBackend]) -> None:
    pair.same(query("SELECT bal FROM acct WHERE id = 2"))
    before = served(servers)
    pair.same(query("BEGIN"))
    pair.same(query("SELECT bal FROM acct WHERE id = 2"))
    pair.same(query("COMMIT"))
    assert served(servers) == before


def test_a_read_after_an_acknowledged_update_sees_it(
        servers: tuple[ServerThread, ServerThread, EngineBackend]) -> None:
    """Real time: a writer on the general server bumps a counter; after each acknowledgement a
    reader on the fast server reads it at least that high; two other readers hammer the lane
    meanwhile and must never see it go down."""
    fast, slow, _ = servers
    with RawClient(slow.host, slow.port) as w:
        w.startup()
        w.send(query("CREATE TABLE ctr (id int PRIMARY KEY, n bigint)"))
        w.read_until_ready()
        w.send(query("INSERT INTO ctr VALUES (1, 0)"))
        w.read_until_ready()
    errors: list[str] = []
    stop = threading.Event()

    def read_value(c: RawClient) -> int:
        c.send(query("SELECT n FROM ctr WHERE id = 1"))
        rows = [b for t, b in c.read_until_ready() if t == "D"]
        assert len(rows) == 1
        return int(rows[0][6:])

    def hammer() -> None:
        with RawClient(fast.host, fast.port) as c:
            c.startup()
            last = 0
            while not stop.is_set():
                v = read_value(c)
                if v < last:
                    errors.append(f"went down: {last} -> {v}")
                last = v

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        with RawClient(slow.host, slow.port) as w, RawClient(fast.host, fast.port) as r:
            w.startup()
            r.startup()
            for i in range(1, 201):
                w.send(query("UPDATE ctr SET n = n + 1 WHERE id = 1"))
                assert [t for t, _ in w.read_until_ready()][0] == "C"
                got = read_value(r)
                assert got >= i, (got, i)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors


def test_after_a_ddl_commit_statements_are_registered_again(
        pair: Pair, servers: tuple[ServerThread, ServerThread, EngineBackend]) -> None:
    pair.same(query("SELECT name FROM acct WHERE id = 2"))
    _prepare(pair, "again", "SELECT bal FROM acct WHERE id = $1")
    pair.same(bind("", "again", [b"1"]), execute(""), SYNC)
    pair.once("CREATE TABLE unrelated_ddl (id int PRIMARY KEY)")  # every plan goes stale
    before = served(servers)
    for _ in range(4):
        pair.same(bind("", "again", [b"1"]), execute(""), SYNC)
    # the first ran on the general path and registered anew (the next one may still find that
    # job finishing), the others were served
    assert_served(servers, before, 2)
    before = served(servers)
    for _ in range(4):
        pair.same(query("SELECT name FROM acct WHERE id = 2"))
    assert_served(servers, before, 2)
    pair.once("DROP TABLE unrelated_ddl")


def test_a_statement_first_run_in_a_block_is_served_later(
        pair: Pair, servers: tuple[ServerThread, ServerThread, EngineBackend]) -> None:
    """What runs inside a transaction block is neither registered nor rejected: the same
    statement in autocommit afterwards is registered and served."""
    _prepare(pair, "blk", "SELECT note FROM acct WHERE id = $1")
    _prepare(pair, "blk_begin", "BEGIN")
    _prepare(pair, "blk_commit", "COMMIT")
    # (prepared BEGIN / COMMIT, as pgbench -M prepared sends them: no Query message in
    # between, which would drop the lane's statements and offer them again anyway)
    pair.same(bind("", "blk_begin", []), execute(""), SYNC)
    pair.same(bind("", "blk", [b"1"]), execute(""), SYNC)
    pair.same(bind("", "blk_commit", []), execute(""), SYNC)
    before = served(servers)
    for _ in range(4):
        pair.same(bind("", "blk", [b"3"]), execute(""), SYNC)
    assert_served(servers, before, 2)
    pair.same(query("BEGIN"))
    pair.same(query("SELECT small FROM acct WHERE id = 1"))
    pair.same(query("COMMIT"))
    before = served(servers)
    for _ in range(4):
        pair.same(query("SELECT small FROM acct WHERE id = 1"))
    assert_served(servers, before, 2)


def test_loop_mode_serves_most_requests(
        pair: Pair, servers: tuple[ServerThread, ServerThread, EngineBackend]) -> None:
    pair.same(query("SELECT bal FROM acct WHERE id = 2"))
    before = served(servers)
    for i in range(40):
        pair.same(query(f"SELECT bal FROM acct WHERE id = {i % 4 + 1}"))
    assert served(servers) - before >= 20  # (all 40 in thread mode)
