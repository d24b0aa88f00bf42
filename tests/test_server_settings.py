"""SET inside a transaction block, over the wire: what a client hears when a block undoes it.

Goal: a rolled-back block's SET and SET LOCAL are undone at the block's end, and the server
tells the client the value in force again with ParameterStatus before ReadyForQuery, as
PostgreSQL does (psycopg keeps its view of the session's TimeZone from it). Method: psycopg
against `dsql serve` over the real engine (engine_serve.py); the SQL-level rules themselves
are in tests/sql/session.test.
"""

from __future__ import annotations

import psycopg

from engine_serve import EngineServer, engine_server  # noqa: F401


def test_parameter_status_follows_a_block_undoing_its_sets(
        engine_server: EngineServer) -> None:  # noqa: F811
    with psycopg.connect(engine_server.dsn(), autocommit=True) as conn:
        conn.execute("SET application_name = 'before'")
        conn.execute("BEGIN")
        conn.execute("SET application_name = 'in-block'")
        assert conn.info.parameter_status("application_name") == "in-block"
        conn.execute("ROLLBACK")
        assert conn.info.parameter_status("application_name") == "before"
        assert conn.execute("SHOW application_name").fetchone() == ("before",)
        conn.execute("BEGIN")
        conn.execute("SET LOCAL TimeZone = 'Asia/Tokyo'")
        assert conn.info.timezone.key == "Asia/Tokyo"
        conn.execute("COMMIT")
        assert conn.info.parameter_status("TimeZone") == "UTC"
        conn.execute("BEGIN")
        conn.execute("SET application_name = 'doomed'")
        try:
            conn.execute("SELECT 1 / 0")
        except psycopg.errors.DivisionByZero:
            pass
        conn.execute("COMMIT")  # (the failed block rolls back)
        assert conn.info.parameter_status("application_name") == "before"
