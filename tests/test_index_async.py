"""CREATE INDEX ASYNC: invisible while building, right under concurrent writes, resumed after a
restart.

Goal: the background build (dsql.sql.jobs) never lets a query read a half-built index, ends with
exactly the entries a synchronous build would have, and a job interrupted by a restart finishes
after it. Method: hold the runner inside its first batch (small batches), query and write the
table meanwhile, release it, then compare answers through the index with answers from a full
scan (`a + 0 = x` cannot use the index); close the database while a job is held and reopen it.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from dsql.engine import Database, DatabaseOptions
from dsql.session import Session
from dsql.sql import jobs

_REAL_FILL = jobs._fill


@pytest.fixture
def datadir() -> Iterator[str]:
    d = tempfile.mkdtemp(prefix="dsql-async-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _open(path: str) -> Database:
    return Database.open(path, DatabaseOptions(durability="unsafe-no-sync"))


def _load(s: Session, n: int) -> None:
    s.execute("SET dsql.max_transaction_rows = 100000")
    s.execute("CREATE TABLE t (id int PRIMARY KEY, a int, b text)")
    s.execute(f"INSERT INTO t SELECT g, g % 50, 'b' FROM generate_series(1, {n}) AS g")


def _hold_first_batch(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event,
                                                                 threading.Event]:
    entered, release = threading.Event(), threading.Event()
    real = jobs._fill

    def held(*args: Any) -> Any:
        if not entered.is_set():
            entered.set()
            assert release.wait(30)
        return real(*args)
    monkeypatch.setattr(jobs, "_fill", held)
    monkeypatch.setattr(jobs, "BATCH_ROWS", 97)
    return entered, release


def test_invisible_while_building_and_right_after_concurrent_writes(
        datadir: str, monkeypatch: pytest.MonkeyPatch) -> None:
    entered, release = _hold_first_batch(monkeypatch)
    db = _open(datadir)
    try:
        s = Session(db)
        _load(s, 1000)
        res = s.execute("CREATE INDEX ASYNC t_a ON t (a)")
        assert [c.name for c in res.columns or []] == ["job_id"]
        job = res.rows[0][0]
        assert re.fullmatch(r"[0-9a-f]{26}", job)
        assert entered.wait(30)
        assert db.catalogs.latest.find_index("public", "t_a").building
        assert s.execute("SELECT status FROM sys.jobs").rows == [("processing",)]
        # the index has no entries yet: a planner using it would find nothing
        assert s.execute("SELECT count(*) FROM t WHERE a = 7").rows == [(20,)]
        # writes while it builds, ahead of and behind the batch being filled
        s.execute("UPDATE t SET a = 7 WHERE id IN (1, 500, 999)")
        s.execute("DELETE FROM t WHERE id IN (7, 57, 600)")
        s.execute("INSERT INTO t VALUES (2000, 7, 'new'), (2001, 8, 'new')")
        release.set()
        assert s.execute(f"CALL sys.wait_for_job('{job}')").rows == [(True,)]
        assert not db.catalogs.latest.find_index("public", "t_a").building
        for x in range(50):
            via_index = s.execute(f"SELECT id FROM t WHERE a = {x} ORDER BY id").rows
            via_scan = s.execute(f"SELECT id FROM t WHERE a + 0 = {x} ORDER BY id").rows
            assert via_index == via_scan, x
    finally:
        release.set()
        db.close()


def test_restart_mid_build_resumes(datadir: str, monkeypatch: pytest.MonkeyPatch) -> None:
    entered, release = _hold_first_batch(monkeypatch)
    db = _open(datadir)
    try:
        s = Session(db)
        _load(s, 500)
        job = s.execute("CREATE UNIQUE INDEX ASYNC t_id ON t (id, a)").rows[0][0]
        assert entered.wait(30)
    finally:
        db.close()
        release.set()  # the held runner wakes up to a closed database and stops
    monkeypatch.setattr(jobs, "_fill", _REAL_FILL)
    db = _open(datadir)
    try:
        s = Session(db)  # resumes the unfinished job
        assert s.execute(f"CALL sys.wait_for_job('{job}')").rows == [(True,)]
        assert s.execute("SELECT status FROM sys.jobs").rows == [("completed",)]
        assert s.execute("SELECT count(*) FROM t WHERE id = 5 AND a = 5").rows == [(1,)]
        assert not db.catalogs.latest.find_index("public", "t_id").building
    finally:
        db.close()
