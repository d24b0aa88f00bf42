"""The plan cache with literal lifting (dsql.sql.normalize + Session).

Goal: lifting literals out of a statement never changes what it does, and a statement repeated
with other literals skips sqlglot. Method: (1) every record of tests/sql/*.test runs on two
databases in lockstep, one session lifting literals and one not; columns, rows, command tags and
SQLSTATEs must be identical (queries run twice on the lifting side, the second time from the
cache); (2) sqlglot.parse is counted across executions with other literals; (3) the normalizer's
decisions on tricky texts are data; (4) the cache stays within its bound.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import sqlglot

import dsql.session as session_mod
from dsql.engine import Database, DatabaseOptions
from dsql.errors import DsqlError
from dsql.session import Session
from dsql.sql.normalize import lift
from sql_logic import parse

FILES = sorted((Path(__file__).parent / "sql").glob("*.test"))


class _Side:
    def __init__(self, lift_literals: bool) -> None:
        self.dir = tempfile.mkdtemp(prefix="dsql-cache-")
        self.lift = lift_literals
        self.db = Database.open(self.dir, DatabaseOptions(durability="unsafe-no-sync"))
        self.sessions: dict[str, Session] = {}

    def session(self, name: str) -> Session:
        s = self.sessions.get(name)
        if s is None:
            s = self.sessions[name] = Session(self.db)
            s.lift_literals = self.lift
        return s

    def reopen(self) -> None:
        self.sessions.clear()
        self.db.close()
        self.db = Database.open(self.dir, DatabaseOptions(durability="unsafe-no-sync"))

    def close(self) -> None:
        self.db.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def _outcome(s: Session, sql: str) -> tuple[Any, ...]:
    try:
        res = s.execute(sql)
    except DsqlError as e:
        return ("error", e.sqlstate, str(e))
    cols = None if res.columns is None else [(c.name, c.type_oid, c.typmod)
                                             for c in res.columns]
    rows = res.rows
    if " async " in sql.lower():  # job ids are random
        rows = [tuple(type(v).__name__ for v in row) for row in rows]
    return ("ok", cols, rows, res.command_tag)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_lifted_equals_unlifted(path: Path) -> None:
    a, b = _Side(True), _Side(False)
    current = "default"
    try:
        for rec in parse(path.read_text()):
            where = f"{path.name}:{rec.line}"
            if rec.kind == "connection":
                current = rec.arg
                continue
            if rec.kind == "reopen":
                a.reopen()
                b.reopen()
                continue
            if rec.kind == "sleep":
                continue
            got = _outcome(a.session(current), rec.sql)
            want = _outcome(b.session(current), rec.sql)
            assert got == want, f"{where}: lifted {got} != unlifted {want}\n{rec.sql}"
            low = rec.sql.lower()
            if rec.kind == "query" and got[0] == "ok" and low.lstrip().startswith("select") \
                    and not any(w in low for w in ("random", "now()", "nextval", "for update")):
                again = _outcome(a.session(current), rec.sql)
                assert again == want, f"{where}: cached {again} != {want}\n{rec.sql}"
    finally:
        a.close()
        b.close()


def test_other_literals_skip_sqlglot(monkeypatch: pytest.MonkeyPatch) -> None:
    db = Database.open(":memory:")
    try:
        s = Session(db)
        s.execute("CREATE TABLE t (id int PRIMARY KEY, name text, v numeric)")
        calls = [0]
        real = sqlglot.parse

        def counting(*args: Any, **kw: Any) -> Any:
            calls[0] += 1
            return real(*args, **kw)
        monkeypatch.setattr(session_mod.sqlglot, "parse", counting)
        # the process-wide cache of parsed texts may hold these forms from other tests
        monkeypatch.setattr(session_mod, "_PARSED", {})
        monkeypatch.setattr(session_mod, "_SEEN", {})
        s.execute("INSERT INTO t VALUES (1, 'a', 1.5)")
        s.execute("SELECT name FROM t WHERE id = 1 AND name <> 'zz'")
        first = calls[0]
        assert first == 2
        for i in range(2, 30):
            s.execute(f"INSERT INTO t VALUES ({i}, 'n''{i}', {i}.25)")
            rows = s.execute(f"SELECT name FROM t WHERE id = {i} AND name <> 'zz'").rows
            assert rows == [(f"n'{i}",)]
        assert calls[0] == first
        # an int8-sized literal is another type: one new parse, then cached too
        s.execute("SELECT name FROM t WHERE id = 9999999999 AND name <> 'zz'")
        s.execute("SELECT name FROM t WHERE id = 8888888888 AND name <> 'q'")
        assert calls[0] == first + 1
        assert s.execute("SELECT count(*) FROM t WHERE v > 10.5").rows == [(19,)]
        assert s.execute("SELECT count(*) FROM t WHERE v > 20.5").rows == [(9,)]
    finally:
        db.close()


def test_time_functions_are_cached_and_read_each_transactions_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """now() / CURRENT_TIMESTAMP plans are cached (pgbench's TPC-B INSERT is not bound again)
    and still give the time of the transaction running them: the same in every statement of
    a block, later in a later transaction; statement_timestamp() moves per statement."""
    import time
    db = Database.open(":memory:")
    try:
        s = Session(db)
        s.execute("CREATE TABLE h (id int PRIMARY KEY, at timestamptz, d timestamp DEFAULT now())")
        binds = [0]
        real = Session._bind

        def counting(self: Session, *args: Any, **kw: Any) -> Any:
            binds[0] += 1
            return real(self, *args, **kw)
        monkeypatch.setattr(Session, "_bind", counting)
        insert = "INSERT INTO h (id, at) VALUES ($1, CURRENT_TIMESTAMP)"
        for i in range(1, 4):
            s.execute(insert, (i,))
            time.sleep(0.002)
        assert binds[0] == 1
        rows = s.execute("SELECT at, d FROM h ORDER BY id").rows
        assert all(at == d.replace(tzinfo=at.tzinfo) for at, d in rows)
        assert rows[0][0] < rows[1][0] < rows[2][0]
        s.execute("BEGIN")
        s.execute(insert, (10,))
        time.sleep(0.002)
        s.execute(insert, (11,))
        first = s.execute("SELECT now(), statement_timestamp()").rows[0]
        time.sleep(0.002)
        second = s.execute("SELECT now(), statement_timestamp()").rows[0]
        s.execute("COMMIT")
        assert first[0] == second[0] and first[1] < second[1]
        ats = s.execute("SELECT at FROM h WHERE id >= 10").rows
        assert ats == [(first[0],), (first[0],)]
        assert s.execute("SELECT now() > $1", (first[0],)).rows == [(True,)]
        # the autocommit single-row UPDATE path (dsql.txn.autocommit) reads the clock too
        import datetime as dt
        for _ in range(3):
            time.sleep(0.002)
            before_update = dt.datetime.now(dt.timezone.utc)
            s.execute("UPDATE h SET at = now() WHERE id = $1", (1,))
            at = s.execute("SELECT at FROM h WHERE id = 1").rows[0][0]
            assert at >= before_update  # not the clock of the statement before
        # a constant folded from the time ('now'::timestamptz) is still bound per execution
        before = binds[0]
        s.execute("SELECT 'now'::timestamptz")
        s.execute("SELECT 'now'::timestamptz")
        assert binds[0] == before + 2
    finally:
        db.close()


def test_cache_is_bounded() -> None:
    db = Database.open(":memory:")
    try:
        s = Session(db)
        s.execute("CREATE TABLE t (id int PRIMARY KEY)")
        hot = "SELECT id FROM t WHERE id = $1"
        for i in range(3 * session_mod.PLAN_CACHE_MAX):
            s.execute(f"SELECT id AS c{i} FROM t WHERE id = 1")
            s.execute(hot, (i,))
            assert len(s._plans) <= session_mod.PLAN_CACHE_MAX
        assert (hot, int) in s._plans  # used all along: never evicted
        assert ("SELECT id AS c0 FROM t WHERE id = $1", ("i4",)) not in s._plans
    finally:
        db.close()


CASES = [
    ("SELECT v FROM t WHERE id = 42", "SELECT v FROM t WHERE id = $1", [42]),
    ("select a from t where b = 'x''y'", "select a from t where b = $1", ["x'y"]),
    ("SELECT a FROM t ORDER BY 1", None, None),
    ("SELECT a, count(*) FROM t GROUP BY 1 ORDER BY 2 DESC", None, None),
    ("SELECT a FROM t LIMIT 10 OFFSET 5", None, None),
    ("SELECT CAST(a AS varchar(10)) FROM t WHERE n::numeric(10,2) > 2",
     "SELECT CAST(a AS varchar(10)) FROM t WHERE n::numeric(10,2) > $1", [2]),
    ("SELECT date '2020-01-01', interval '1 day'", None, None),
    ("SELECT E'a\\nb', U&'x', B'101', X'ff'", None, None),
    ("SELECT $$x$$", None, None),
    ("SELECT a FROM t WHERE b = -1", None, None),
    ("SELECT a - 1 FROM t", "SELECT a - $1 FROM t", [1]),
    ("SELECT a FROM t WHERE id = $1 AND b = 3", "SELECT a FROM t WHERE id = $1 AND b = $2", [3]),
    ("SELECT a FROM t WHERE id = $2", None, None),  # $2 beyond the one parameter given
    ("SELECT 1e5", None, None),
    ("SELECT 2147483648, 9223372036854775808",
     "SELECT $1, $2", [2147483648, 9223372036854775808]),
    ("SELECT 'a' /* 'b' */ -- 'c'\n", "SELECT $1 /* 'b' */ -- 'c'\n", ["a"]),
    ("SELECT 'a\\'", None, None),
    ("SELECT E'it\\'s', 5", None, None),
    ("SELECT 1abc, 2", None, None),
    ("CREATE TABLE t (a int DEFAULT 1)", None, None),
    ("SET x = 1", None, None),
    ("SELECT arr[1] FROM t", None, None),
    ("SELECT a FROM t WHERE b IN (1, 2)", "SELECT a FROM t WHERE b IN ($1, $2)", [1, 2]),
    ("UPDATE t SET v = v + 1 WHERE id = 7", "UPDATE t SET v = v + $1 WHERE id = $2", [1, 7]),
]


@pytest.mark.parametrize(("sql", "text", "values"), CASES)
def test_normalizer_cases(sql: str, text: str | None, values: list[Any] | None) -> None:
    nparams = 1 if "$1" in sql or "$2" in sql else 0
    got = lift(sql, nparams)
    if text is None:
        assert got is None
        return
    assert got is not None
    assert got.text == text
    assert [int(v) if not isinstance(v, str) and v == int(v) else v for v in got.values] == \
        values
