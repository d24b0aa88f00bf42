"""The Python side of the server's transaction lane: which statements qualify, and handover.

Goal: dsql.sql.fastplan gives the C++ lane exactly the statements whose every outcome it can
reproduce (everything else stays on the general path); the lane's conflict DETAIL spells keys
as Python's repr() does; a transaction handed over by the lane continues with the same
snapshot, writes and claims, and a COMMIT the lane already lost raises the general path's
error. Method: statements planned by a real Session (their cached plans and syntax trees) and
offered to fastplan, a table of cases with the expected verdict; repr() compared on random
bytes; dsql.txn.lane.adopt fed handover tuples built by hand, then committed for real.
(End to end through the server and pgbench: tests/test_server_txnlane.py; the kernel:
cpp/wire/txn_lane_test.cc.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from dsql._core._kernels import wire
from hypothesis import given, settings
from hypothesis import strategies as st

from dsql.adjudicator import CommitConflict, Kind
from dsql.dbapi import connect
from dsql.errors import DsqlError
from dsql.session import Session
from dsql.sql import fastplan
from dsql.sql.errors import SchemaConflict
from dsql.txn import lane

SETUP = [
    "CREATE TABLE acct (id int PRIMARY KEY, bal int NOT NULL, big bigint, small smallint, "
    "note text)",
    "CREATE TABLE chk (id int PRIMARY KEY, bal int CHECK (bal > -100))",
    "CREATE TABLE idx (id int PRIMARY KEY, bal int)",
    "CREATE INDEX idx_bal ON idx (bal)",
    "CREATE TABLE hist (tid int, delta int, mtime timestamp, at timestamptz, filler char(22))",
    "CREATE TABLE hdef (tid int, delta int DEFAULT 0)",
    "CREATE TABLE hnn (tid int, delta int NOT NULL)",
    "CREATE TABLE kv (k bigint PRIMARY KEY, v int)",
]

UPDATES = [  # (statement, parameter type oids, qualifies)
    ("UPDATE acct SET bal = bal + $1 WHERE id = $2", (23, 23), True),
    ("UPDATE acct SET bal = bal + $1, big = big + $2 WHERE id = $3", (23, 20, 23), True),
    ("UPDATE acct SET small = small + $1 WHERE id = $2", (21, 23), True),
    ("UPDATE acct SET bal = $1 + bal WHERE id = $2", (23, 23), False),
    ("UPDATE acct SET bal = bal - $1 WHERE id = $2", (23, 23), False),
    ("UPDATE acct SET bal = big + $1 WHERE id = $2", (23, 23), False),
    ("UPDATE acct SET bal = bal + $1 WHERE id = $2 AND bal > 0", (23, 23), False),
    ("UPDATE acct SET bal = bal + $1 WHERE id = $2 RETURNING bal", (23, 23), False),
    ("UPDATE acct SET bal = bal + 1 WHERE id = $1", (23,), False),
    ("UPDATE acct SET id = id + $1 WHERE id = $2", (23, 23), False),
    ("UPDATE acct SET bal = bal + $1 WHERE id = $2", (1700, 23), False),  # numeric parameter
    ("UPDATE chk SET bal = bal + $1 WHERE id = $2", (23, 23), False),
    ("UPDATE idx SET bal = bal + $1 WHERE id = $2", (23, 23), False),
    ("UPDATE kv SET v = v + $1 WHERE k = $2", (23, 20), True),
]

INSERTS = [  # (statement, parameter type oids, session TimeZone, qualifies)
    ("INSERT INTO hist (tid, delta, mtime) VALUES ($1, $2, CURRENT_TIMESTAMP)", (23, 23),
     "UTC", True),
    ("INSERT INTO hist (tid, delta, at) VALUES ($1, $2, now())", (23, 23), "UTC", True),
    ("INSERT INTO hist (tid, delta, at) VALUES ($1, $2, now())", (23, 23), "Europe/Paris",
     True),
    ("INSERT INTO hist (tid, delta, mtime) VALUES ($1, $2, now())", (23, 23), "Europe/Paris",
     False),
    ("INSERT INTO hist (tid, delta, mtime) VALUES ($1, $2, LOCALTIMESTAMP)", (23, 23), "UTC",
     False),
    ("INSERT INTO hist (tid, filler) VALUES ($1, $2)", (23, 25), "UTC", False),
    ("INSERT INTO hist (tid, delta) VALUES ($1, $2) RETURNING tid", (23, 23), "UTC", False),
    ("INSERT INTO hist (tid, delta) VALUES ($1, $2), ($2, $1)", (23, 23), "UTC", False),
    ("INSERT INTO hdef (tid) VALUES ($1)", (23,), "UTC", False),
    ("INSERT INTO hnn (tid) VALUES ($1)", (23,), "UTC", False),
    ("INSERT INTO hnn (tid, delta) VALUES ($1, $2)", (23, 23), "UTC", True),
    ("INSERT INTO kv (k, v) VALUES ($1, $2)", (20, 23), "UTC", True),
    ("INSERT INTO kv (v) VALUES ($1)", (23,), "UTC", False),
    ("INSERT INTO kv (k, v) VALUES ($1, $2) ON CONFLICT DO NOTHING", (20, 23), "UTC", False),
    ("INSERT INTO idx (id, bal) VALUES ($1, $2)", (23, 23), "UTC", False),
]


@pytest.fixture
def session() -> Iterator[Session]:
    conn = connect(":memory:", autocommit=True)
    for sql in SETUP:
        conn.session.execute(sql)
    yield conn.session
    conn.close()


def _planned(session: Session, sql: str, oids: tuple[int, ...]
             ) -> tuple[object, object] | None:
    """Runs the prepared statement once in a block (as pgbench does) and gives its plan as the
    lane sees it (None: not cached under its own text, e.g. its literals were lifted)."""
    prepared = session.prepare(sql, list(oids))
    params = [1] * len(oids)
    session.execute("BEGIN")
    try:
        session.execute_prepared(prepared, params)
        found = session.lane_plan(sql, params)
    except DsqlError:  # it fails: the server registers only what succeeded
        found = None
    finally:
        session.execute("ROLLBACK")
    return found


@pytest.mark.parametrize(("sql", "oids", "qualifies"), UPDATES, ids=[u[0] for u in UPDATES])
def test_which_updates_the_lane_runs(session: Session, sql: str, oids: tuple[int, ...],
                                     qualifies: bool) -> None:
    found = _planned(session, sql, oids)
    if found is None:
        assert not qualifies
        return
    plan, ast = found
    got = fastplan.update_plan(plan, ast, list(oids), 1)
    assert (got is not None) == qualifies
    assert fastplan.insert_plan(plan, ast, list(oids), True, 1) is None


@pytest.mark.parametrize(("sql", "oids", "zone", "qualifies"), INSERTS,
                         ids=[f"{i[0]} [{i[2]}]" for i in INSERTS])
def test_which_inserts_the_lane_runs(session: Session, sql: str, oids: tuple[int, ...],
                                     zone: str, qualifies: bool) -> None:
    session.execute(f"SET TimeZone = '{zone}'")
    found = _planned(session, sql, oids)
    if found is None:
        assert not qualifies
        return
    plan, ast = found
    got = fastplan.insert_plan(plan, ast, list(oids), session.utc, 1)
    assert (got is not None) == qualifies
    assert fastplan.update_plan(plan, ast, list(oids), 1) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=24))
def test_conflict_keys_are_spelled_as_python_repr(data: bytes) -> None:
    assert wire.bytes_repr(data) == repr(data)


def test_quotes_choose_the_repr_delimiter() -> None:
    for data in (b"'", b'"', b"'\"", b"\\'", b"\x00\x7f\x80\xff\t\n\r"):
        assert wire.bytes_repr(data) == repr(data)


def _handover(session: Session, writes: list[tuple[bytes, bytes]], failure: object
              ) -> lane.Handover:
    start = session.db.node.begin()
    claims = [(k, int(Kind.NONKEY)) for k, _ in writes]
    return (start, 1_700_000_000_000_000_000, time.monotonic_ns(), writes, claims, failure)


def _writes_of(session: Session, sql: str) -> list[tuple[bytes, bytes]]:
    """The writes `sql` buffers in a block (rolled back): what the lane would hand over for
    it, encoded as the general path encodes them."""
    session.execute("BEGIN")
    txn = session.txn
    assert txn is not None
    session.execute(sql)
    writes = list(txn.writes.items())
    session.execute("ROLLBACK")
    return writes


def test_an_adopted_transaction_continues_with_its_writes(session: Session) -> None:
    session.execute("INSERT INTO acct VALUES (1, 10, NULL, NULL, 'a')")
    writes = _writes_of(session, "UPDATE acct SET bal = bal + 5 WHERE id = 1")
    state = _handover(session, writes, None)
    session.adopt_lane(state)
    assert session.transaction_status == "T"
    adopted = session.txn
    assert adopted is not None
    assert adopted.start_ts == state[0] and adopted.started_wall_ns == state[1]
    assert adopted.started_s == pytest.approx(state[2] / 1e9)
    assert adopted.claims == {k: Kind.NONKEY for k, _ in writes}
    assert adopted.rows == {k for k, _ in writes}
    assert adopted.bytes == sum(len(k) + len(v) for k, v in writes)
    assert session.execute("SELECT bal FROM acct WHERE id = 1").rows == [(15,)]
    session.execute("UPDATE acct SET bal = bal + 1 WHERE id = 1")
    session.execute("COMMIT")
    assert session.execute("SELECT bal FROM acct WHERE id = 1").rows == [(16,)]


def test_a_commit_the_lane_lost_raises_the_general_paths_error(session: Session) -> None:
    session.execute("INSERT INTO acct VALUES (2, 10, NULL, NULL, 'b')")
    writes = _writes_of(session, "UPDATE acct SET bal = bal + 5 WHERE id = 2")
    # (outcome CONFLICT, commit ts, key index 0, mine NONKEY, theirs NONKEY, committed, txn 0)
    result = (1, 0, 0, 1, 1, False, 0)
    session.adopt_lane(_handover(session, writes, ("result", result)))
    with pytest.raises(CommitConflict) as got:
        session.execute("COMMIT")
    assert got.value.sqlstate == "40001"
    assert f"nonkey write on key {writes[0][0]!r} conflicts with a committed nonkey write" \
        == got.value.detail
    assert session.transaction_status == "I"
    assert session.execute("SELECT bal FROM acct WHERE id = 2").rows == [(10,)]
    # the same loss after a catalog change is a schema conflict (OC001)
    state = _handover(session, writes, ("result", result))
    session.execute("CREATE TABLE later (id int PRIMARY KEY)")
    session.adopt_lane(state)
    with pytest.raises(SchemaConflict):
        session.execute("COMMIT")
