"""CREATE INDEX ASYNC, sys.jobs and CALL sys.wait_for_job through psycopg (extended protocol).

Goal: a real client can run the Aurora DSQL statements unchanged: psycopg prepares every
statement (Parse/Describe), so the session must describe ASYNC and CALL statements too, and a
SET statement_timeout reaches the server. Method: `dsql serve`'s server thread over the engine
backend on a temporary data directory; psycopg with and without parameters; the timeout is
enforced but, as in PostgreSQL, not reported by ParameterStatus.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dsql.server.factory import open_backend
from pgwire_fixtures import running_server


@pytest.fixture
def dsn(tmp_path: Path) -> Iterator[str]:
    backend = open_backend(tmp_path / "db")
    with running_server(backend, shutdown_timeout_s=2.0) as srv:  # type: ignore[arg-type]
        yield srv.dsn()


def test_async_index_over_psycopg(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, a int)")
        conn.execute("INSERT INTO t SELECT g, g % 10 FROM generate_series(1, 500) AS g")
        cur = conn.execute("CREATE INDEX ASYNC t_a ON t (a)")
        assert cur.description is not None and cur.description[0].name == "job_id"
        (job,) = cur.fetchone()  # type: ignore[misc]
        assert conn.execute("CALL sys.wait_for_job(%s)", (job,)).fetchone() == (True,)
        assert conn.execute("SELECT status FROM sys.jobs WHERE job_id = %s",
                            (job,)).fetchone() == ("completed",)
        assert conn.execute("SELECT count(*) FROM t WHERE a = %s", (3,)).fetchone() == (50,)
        conn.execute("SET statement_timeout = '100ms'")
        # PostgreSQL does not report statement_timeout (not GUC_REPORT): no ParameterStatus
        assert conn.info.parameter_status("statement_timeout") is None
        assert conn.info.parameter_status("TimeZone") is not None
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SELECT count(*) FROM generate_series(1, 1000000000)")
