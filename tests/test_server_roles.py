"""Roles in the catalog: CREATE / ALTER / DROP ROLE, password storage, and logins to
`dsql serve` checked against the catalog.

Goal: roles behave as in PostgreSQL (errors 42710 / 42704 / 42501, pg_roles, SCRAM or md5
secrets, never clear text), logins use them (a wrong password and an unknown role fail alike
with 28P01), and they survive a restart. Method: role statements on an embedded Session for
the rules, then psycopg against a real `dsql serve` (engine_serve.py) for logins.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import psycopg
import pytest

from dsql.engine import Database
from dsql.errors import DsqlError
from dsql.session import Session
from engine_serve import ADMIN, PASSWORD, EngineServer, engine_server  # noqa: F401


def _state(s: Session, sql: str) -> str:
    with pytest.raises(DsqlError) as ei:
        s.execute(sql)
    return ei.value.sqlstate


def test_role_statements_embedded() -> None:
    db = Database.open(":memory:")
    s = Session(db)
    s.execute("CREATE ROLE boss WITH SUPERUSER LOGIN PASSWORD 'pw'")
    s.execute("CREATE USER bob PASSWORD 'bpw'")
    s.execute("CREATE ROLE reader")
    assert s.execute("SELECT rolname, rolsuper, rolcanlogin, rolpassword FROM pg_roles "
                     "ORDER BY oid").rows == [("boss", True, True, "********"),
                                              ("bob", False, True, "********"),
                                              ("reader", False, False, None)]
    stored = dict(s.execute("SELECT rolname, rolpassword FROM pg_authid").rows)
    assert stored["boss"].startswith("SCRAM-SHA-256$4096:") and "pw" not in stored["boss"][30:]
    assert s.execute("SELECT oid FROM pg_roles WHERE rolname = 'boss'").rows == [(10,)]
    assert _state(s, "CREATE ROLE bob") == "42710"
    assert _state(s, "ALTER ROLE nobody PASSWORD 'x'") == "42704"
    assert _state(s, "DROP ROLE nobody") == "42704"
    r = s.execute("DROP ROLE IF EXISTS nobody")
    assert r.command_tag == "DROP ROLE" and "does not exist, skipping" in r.notices[0].message
    s.execute("SET password_encryption = 'md5'")
    s.execute("ALTER ROLE reader WITH LOGIN PASSWORD 'rpw'")
    import hashlib
    assert s.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'reader'").rows == \
        [("md5" + hashlib.md5(b"rpwreader").hexdigest(),)]
    s.execute("ALTER ROLE reader RENAME TO viewer")
    assert s.execute("SELECT rolname, rolpassword FROM pg_authid WHERE oid = "
                     "'viewer'::regrole").rows == [("viewer", None)]  # md5 is salted by name
    s.execute("ALTER ROLE bob PASSWORD NULL")
    s.execute("DROP ROLE bob, viewer")
    assert s.execute("SELECT count(*) FROM pg_roles").rows == [(1,)]
    s.execute("BEGIN")
    s.execute("CREATE ROLE x")
    assert _state(s, "CREATE ROLE y") == "0A000"  # one catalog change per transaction
    s.execute("ROLLBACK")
    s.close()
    db.close()


def _connect(srv: EngineServer, user: str, password: str) -> psycopg.Connection:
    return psycopg.connect(srv.dsn(user=user, password=password), autocommit=True)


def test_logins_use_catalog_roles(engine_server: EngineServer) -> None:  # noqa: F811
    srv = engine_server
    with _connect(srv, ADMIN, PASSWORD) as admin:
        assert admin.execute("SELECT rolname, rolsuper FROM pg_roles").fetchall() == \
            [(ADMIN, True)]
        admin.execute("CREATE ROLE alice WITH LOGIN PASSWORD 'wonder'")
        admin.execute("CREATE ROLE carol PASSWORD 'c'")  # NOLOGIN by default
    with _connect(srv, "alice", "wonder") as alice:
        assert alice.execute("SELECT current_user, session_user").fetchone() == \
            ("alice", "alice")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            alice.execute("CREATE ROLE mallory")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # secrets: superusers only
            alice.execute("SELECT rolpassword FROM pg_authid")
        assert alice.execute("SELECT count(*) FROM pg_roles").fetchone() == (3,)
        alice.execute("ALTER ROLE alice PASSWORD 'land'")  # one's own password: allowed
    with pytest.raises(psycopg.OperationalError) as wrong:
        _connect(srv, "alice", "wonder")
    with pytest.raises(psycopg.OperationalError) as unknown:
        _connect(srv, "nobody", "wonder")
    assert 'password authentication failed for user "alice"' in str(wrong.value)
    assert 'password authentication failed for user "nobody"' in str(unknown.value)
    with pytest.raises(psycopg.OperationalError) as nologin:
        _connect(srv, "carol", "c")
    assert "not permitted to log in" in str(nologin.value)
    _connect(srv, "alice", "land").close()
    with _connect(srv, ADMIN, PASSWORD) as admin:
        admin.execute("SET password_encryption = 'md5'")
        admin.execute("CREATE USER dave PASSWORD 'd'")
        with pytest.raises(psycopg.errors.DuplicateObject):
            admin.execute("CREATE USER dave")
        with pytest.raises(psycopg.errors.UndefinedObject):
            admin.execute("DROP ROLE zed")
        with pytest.raises(psycopg.errors.ObjectInUse):
            admin.execute(f"DROP ROLE {ADMIN}")
        assert admin.execute("SELECT left(rolpassword, 3) FROM pg_authid WHERE rolname = "
                             "'dave'").fetchone() == ("md5",)
    with pytest.raises(psycopg.OperationalError):  # as PostgreSQL: scram-sha-256 logins need
        _connect(srv, "dave", "d")                # a SCRAM secret
    with _connect(srv, ADMIN, PASSWORD) as admin:
        admin.execute("ALTER ROLE dave PASSWORD 'd2'")  # password_encryption is per session
    _connect(srv, "dave", "d2").close()
    with _connect(srv, ADMIN, PASSWORD) as admin:
        admin.execute("DROP ROLE dave")
    with pytest.raises(psycopg.OperationalError):
        _connect(srv, "dave", "d2")


def test_roles_survive_restart() -> None:
    with tempfile.TemporaryDirectory(prefix="dsql-roles-") as d:
        srv = EngineServer(Path(d)).start()
        try:
            with _connect(srv, ADMIN, PASSWORD) as admin:
                admin.execute("CREATE USER erin PASSWORD 'e'")
        finally:
            srv.stop()
        srv = EngineServer(Path(d)).start()
        try:
            with _connect(srv, "erin", "e") as erin:
                assert erin.execute("SELECT rolname FROM pg_roles ORDER BY oid").fetchall() == \
                    [(ADMIN,), ("erin",)]
        finally:
            srv.stop()
