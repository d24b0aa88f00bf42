"""The DB-API 2.0 face: dsql.connect, cursors, parameters, transactions, errors.

Goal: what a PEP 249 / psycopg user relies on works. Method: small scripted uses against
in-memory and on-disk databases, checking results, rowcount, description and exception types.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

import dsql
from dsql import dbapi


def test_connect_execute_fetch() -> None:
    with dsql.connect(":memory:") as conn:
        cur = conn.cursor()
        cur.execute("CREATE TABLE t (id int PRIMARY KEY, v text, n numeric(6,2), at timestamptz)")
        conn.commit()
        at = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
        cur.executemany("INSERT INTO t VALUES (%s, %s, %s, %s)",
                        [(1, "a", Decimal("1.5"), at), (2, "b", None, None), (3, "c", 2, at)])
        assert cur.rowcount == 3
        cur.execute("SELECT id, v, n, at FROM t WHERE id = %(id)s", {"id": 1})
        assert cur.description is not None and [d[0] for d in cur.description] == \
            ["id", "v", "n", "at"]
        assert cur.fetchone() == (1, "a", Decimal("1.50"), at)
        assert cur.fetchone() is None
        cur.execute("SELECT id FROM t ORDER BY id")
        assert cur.fetchmany(2) == [(1,), (2,)]
        assert cur.fetchall() == [(3,)]
        cur.execute("UPDATE t SET v = v || '%%' WHERE id > %s", (1,))
        assert cur.rowcount == 2
        cur.execute("SELECT v FROM t WHERE id = 2")
        assert cur.fetchall() == [("b%",)]


def test_transactions_and_rollback() -> None:
    conn = dsql.connect(":memory:")
    cur = conn.cursor()
    cur.execute("CREATE TABLE t (id int PRIMARY KEY)")
    conn.commit()
    cur.execute("INSERT INTO t VALUES (1)")
    conn.rollback()
    cur.execute("SELECT count(*) FROM t")
    assert cur.fetchone() == (0,)
    conn.rollback()
    conn.autocommit = True
    cur.execute("INSERT INTO t VALUES (1)")
    cur.execute("SELECT count(*) FROM t")
    assert cur.fetchone() == (1,)
    conn.close()


def test_errors_carry_sqlstate() -> None:
    conn = dsql.connect(":memory:", autocommit=True)
    cur = conn.cursor()
    cur.execute("CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)")
    cur.execute("INSERT INTO t VALUES (1, 1)")
    with pytest.raises(dbapi.IntegrityError) as ei:
        cur.execute("INSERT INTO t VALUES (1, 2)")
    assert ei.value.sqlstate == "23505"
    with pytest.raises(dbapi.ProgrammingError) as pe:
        cur.execute("SELECT * FROM nope")
    assert pe.value.sqlstate == "42P01"
    with pytest.raises(dbapi.ProgrammingError) as se:
        cur.execute("SELEC 1")
    assert se.value.sqlstate == "42601"
    with pytest.raises(dbapi.DataError):
        cur.execute("SELECT 1/0")
    with pytest.raises(dbapi.NotSupportedError):
        cur.execute("COMMIT PREPARED 'x'")
    conn.close()


def test_conflict_is_operational_error(tmp_path: Path) -> None:
    a = dsql.connect(tmp_path, durability="unsafe-no-sync")
    b = dsql.connect(tmp_path)
    assert a._db is b._db  # one Database per data directory per process
    ca, cb = a.cursor(), b.cursor()
    ca.execute("CREATE TABLE t (id int PRIMARY KEY, v int)")
    a.commit()  # Aurora DSQL: DDL and DML do not mix in one transaction
    ca.execute("INSERT INTO t VALUES (1, 0)")
    a.commit()
    ca.execute("UPDATE t SET v = 1 WHERE id = 1")
    cb.execute("UPDATE t SET v = 2 WHERE id = 1")
    b.commit()
    with pytest.raises(dbapi.OperationalError) as ei:
        a.commit()
    assert ei.value.sqlstate == "40001"
    a.close()
    b.close()
    c = dsql.connect(tmp_path)
    cur = c.cursor()
    cur.execute("SELECT v FROM t")
    assert cur.fetchall() == [(2,)]
    c.close()


def test_cached_plan_does_not_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = dsql.connect(":memory:", autocommit=True)
    cur = conn.cursor()
    cur.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
    cur.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    cur.execute("SELECT v FROM t WHERE id = %s", (1,))
    import sqlglot

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("sqlglot called for a cached statement")
    monkeypatch.setattr(sqlglot, "parse", boom)
    cur.execute("SELECT v FROM t WHERE id = %s", (2,))
    assert cur.fetchall() == [("b",)]
    conn.close()


def test_session_api_shapes() -> None:
    from dsql.engine import Database
    from dsql.session import Session
    db = Database.open(":memory:")
    s = Session(db)
    assert s.parameter_status()["server_version"].startswith("16")
    res = s.execute_script("CREATE TABLE t (a int); INSERT INTO t VALUES (1), (2); "
                           "SELECT a FROM t ORDER BY a")
    assert [r.command_tag for r in res] == ["CREATE TABLE", "INSERT 0 2", "SELECT 2"]
    p = s.prepare("SELECT a FROM t WHERE a = $1")
    assert p.columns is not None and p.columns[0].type_oid == 23
    assert s.execute_prepared(p, ["2"]).rows == [(2,)]
    assert s.execute("BEGIN").command_tag == "BEGIN" and s.transaction_status == "T"
    with pytest.raises(dsql.errors.DsqlError):
        s.execute("SELECT nope")
    assert s.transaction_status == "E"
    assert s.execute("ROLLBACK").command_tag == "ROLLBACK"
    assert s.execute("SET TimeZone = 'Europe/Paris'").parameter_changes == \
        {"TimeZone": "Europe/Paris"}
    db.close()


def test_prepared_statement_whose_result_changed_fails_as_in_postgresql() -> None:
    """After ALTER TABLE ADD COLUMN, `SELECT *` prepared before it fails with 0A000 before it
    runs (every time); a statement whose columns did not change, and one re-prepared, run."""
    from dsql.engine import Database
    from dsql.session import Session
    db = Database.open(":memory:")
    s = Session(db)
    s.execute_script("CREATE TABLE t (a int PRIMARY KEY, b int); INSERT INTO t VALUES (1, 2)")
    star = s.prepare("SELECT * FROM t WHERE a = $1")
    one = s.prepare("SELECT b FROM t WHERE a = $1")
    assert s.execute_prepared(star, [1]).rows == [(1, 2)]
    s.execute("ALTER TABLE t ADD COLUMN c text")
    for _ in range(2):
        with pytest.raises(dsql.errors.FeatureNotSupported,
                           match="cached plan must not change result type"):
            s.execute_prepared(star, [1])
    assert s.execute_prepared(one, [1]).rows == [(2,)]
    assert s.execute_prepared(s.prepare(star.sql), [1]).rows == [(1, 2, None)]
    db.close()
