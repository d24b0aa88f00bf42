"""The autocommit single-row UPDATE fast path (dsql.txn.autocommit) equals the general path.

Goal: skipping the Transaction object changes nothing a client can see: rows, command tags,
SQLSTATEs (NOT NULL, CHECK, type errors, limits), conflicts with open transactions, and DDL in
between. Method: one random script of autocommit UPDATEs and checks runs twice, with the fast
path on and off, on fresh databases; every outcome and the final table must be equal. Then the
conflict rules are checked directly: a block that wrote a row loses to a fast-path update that
committed first (40001), and a fast-path update after the block's commit sees its write.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

import dsql.session as session_mod
from dsql.engine import Database
from dsql.errors import DsqlError
from dsql.session import Session


def _script(seed: int) -> list[tuple[str, tuple[Any, ...]]]:
    rnd = random.Random(seed)
    out: list[tuple[str, tuple[Any, ...]]] = []
    for _ in range(300):
        k = rnd.randrange(-2, 25)
        c = rnd.random()
        if c < 0.4:
            out.append(("UPDATE t SET v = v + $2 WHERE id = $1", (k, rnd.randrange(-50, 50))))
        elif c < 0.5:
            out.append(("UPDATE t SET name = $2 WHERE id = $1", (k, rnd.choice([None, "x"]))))
        elif c < 0.6:
            out.append(("UPDATE t SET v = 2147483647 + v WHERE id = $1", (k,)))
        elif c < 0.7:
            out.append(("UPDATE t SET v = v * 2, name = name || 'y' WHERE id = $1 AND v > 0",
                        (k,)))
        elif c < 0.8:
            out.append((f"UPDATE t SET v = {rnd.randrange(-9, 9)} WHERE id = {k}", ()))
        elif c < 0.85:
            out.append(("UPDATE t SET v = $2 WHERE id = $1", (k, "12")))
        elif c < 0.9:
            out.append(("SELECT id, name, v FROM t WHERE id = $1", (k,)))
        elif c < 0.93:
            out.append(("ALTER TABLE t ADD COLUMN c" + str(rnd.randrange(10**6)) + " int", ()))
        else:
            out.append(("UPDATE t SET v = $2 WHERE id = $1", (k, 10**12)))
    return out


CONSTRAINED = "CREATE TABLE t (id int PRIMARY KEY, name text NOT NULL, v int CHECK (v > -100))"
# no NOT NULL outside the key and no CHECK: the fast path skips the constraint checks
UNCONSTRAINED = "CREATE TABLE t (id int PRIMARY KEY, name text, v int)"


def _run(fast: bool, script: list[tuple[str, tuple[Any, ...]]],
         monkeypatch: pytest.MonkeyPatch, ddl: str = CONSTRAINED) -> list[Any]:
    monkeypatch.setattr(session_mod, "FAST_POINT_UPDATE", fast)
    calls = [0]
    real = session_mod.point_update

    def counted(*args: Any) -> int:
        calls[0] += 1
        return real(*args)
    monkeypatch.setattr(session_mod, "point_update", counted)
    db = Database.open(":memory:")
    try:
        s = Session(db)
        s.execute(ddl)
        for i in range(20):
            s.execute("INSERT INTO t VALUES ($1, $2, $3)", (i, f"n{i}", i))
        out: list[Any] = []
        for sql, params in script:
            try:
                r = s.execute(sql, params)
                out.append((r.command_tag, r.rows))
            except DsqlError as e:
                out.append((e.sqlstate, str(e)))
        out.append(s.execute("SELECT id, name, v FROM t ORDER BY id").rows)
        assert (calls[0] > 100) if fast else (calls[0] == 0)
        return out
    finally:
        db.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("ddl", [CONSTRAINED, UNCONSTRAINED])
def test_fast_path_equals_general_path(seed: int, ddl: str,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    script = _script(seed)
    assert _run(True, script, monkeypatch, ddl) == _run(False, script, monkeypatch, ddl)


def test_conflicts_with_open_blocks() -> None:
    db = Database.open(":memory:")
    try:
        a, b = Session(db), Session(db)
        a.execute("CREATE TABLE t (id int PRIMARY KEY, v int)")
        a.execute("INSERT INTO t VALUES (1, 0)")
        b.execute("UPDATE t SET v = v + 1 WHERE id = $1", (1,))  # cached from here on
        a.execute("BEGIN")
        a.execute("UPDATE t SET v = v + 10 WHERE id = 1")
        assert b.execute("UPDATE t SET v = v + 1 WHERE id = $1", (1,)).command_tag == "UPDATE 1"
        with pytest.raises(DsqlError) as e:
            a.execute("COMMIT")
        assert e.value.sqlstate == "40001"
        a.execute("BEGIN")
        a.execute("UPDATE t SET v = v + 100 WHERE id = 1")
        a.execute("COMMIT")
        b.execute("UPDATE t SET v = v + 1 WHERE id = $1", (1,))
        assert b.execute("SELECT v FROM t WHERE id = 1").rows == [(103,)]
    finally:
        db.close()
