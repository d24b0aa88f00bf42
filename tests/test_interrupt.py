"""Session.cancel and statement_timeout interrupt a running statement (57014).

Goal: a cancel from another thread, or an expired statement_timeout set with SET, ends a long
statement (generate_series, a big scan feeding a sort, a join) while it runs, not only between
statements; a cancel while idle has no lasting effect; SET statement_timeout is reported in
parameter_changes (the wire server applies it) and refuses bad values with 22023. Method: run
statements that would take minutes and cancel them after a short delay; the bound asserted is
generous (seconds) only to prove the statement did not run to its end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from dsql.engine import Database
from dsql.errors import DsqlError
from dsql.session import Session

LONG = [
    "SELECT count(*) FROM generate_series(1, 1000000000) AS g",
    "SELECT sum(a.id + b.id) FROM big a, big b",
    "SELECT id FROM big a WHERE id > (SELECT count(*) FROM generate_series(1, 1000000000))",
]


@pytest.fixture(scope="module")
def db() -> Iterator[Database]:
    d = Database.open(":memory:")
    s = Session(d)
    s.execute("SET dsql.max_transaction_rows = 100000")
    s.execute("CREATE TABLE big (id int PRIMARY KEY, v text)")
    s.execute("INSERT INTO big SELECT g, 'v' || g FROM generate_series(1, 20000) AS g")
    yield d
    d.close()


@pytest.mark.parametrize("sql", LONG)
def test_cancel_from_another_thread(db: Database, sql: str) -> None:
    s = Session(db)
    timer = threading.Timer(0.2, s.cancel)
    timer.start()
    start = time.monotonic()
    with pytest.raises(DsqlError) as e:
        s.execute(sql)
    elapsed = time.monotonic() - start
    timer.join()
    assert e.value.sqlstate == "57014"
    assert "user request" in str(e.value)
    assert elapsed < 5.0
    assert s.execute("SELECT count(*) FROM big").rows == [(20000,)]  # the session goes on


def test_cancel_while_idle_has_no_lasting_effect(db: Database) -> None:
    s = Session(db)
    s.cancel()
    assert s.execute("SELECT 1").rows == [(1,)]


def test_cancel_inside_a_block_fails_the_block(db: Database) -> None:
    s = Session(db)
    s.execute("BEGIN")
    threading.Timer(0.2, s.cancel).start()
    with pytest.raises(DsqlError) as e:
        s.execute(LONG[0])
    assert e.value.sqlstate == "57014"
    with pytest.raises(DsqlError) as e2:
        s.execute("SELECT 1")
    assert e2.value.sqlstate == "25P02"
    s.execute("ROLLBACK")


def test_statement_timeout(db: Database) -> None:
    s = Session(db)
    res = s.execute("SET statement_timeout = '150ms'")
    assert res.parameter_changes == {"statement_timeout": "150ms"}
    assert s.execute("SHOW statement_timeout").rows == [("150ms",)]
    start = time.monotonic()
    for sql in LONG[:2]:
        with pytest.raises(DsqlError) as e:
            s.execute(sql)
        assert e.value.sqlstate == "57014"
        assert str(e.value) == "canceling statement due to statement timeout"
    assert time.monotonic() - start < 10.0
    assert s.execute("SELECT v FROM big WHERE id = 7").rows == [("v7",)]  # short ones run
    s.execute("SET statement_timeout = 0")
    assert s.execute("SELECT count(*) FROM generate_series(1, 300000)").rows == [(300000,)]
    res = s.execute("RESET statement_timeout")
    assert res.parameter_changes == {"statement_timeout": "0"}


@pytest.mark.parametrize("value", ["'abc'", "'5 parsecs'", "-1"])
def test_statement_timeout_bad_values(db: Database, value: str) -> None:
    s = Session(db)
    with pytest.raises(DsqlError) as e:
        s.execute(f"SET statement_timeout = {value}")
    assert e.value.sqlstate == "22023"
