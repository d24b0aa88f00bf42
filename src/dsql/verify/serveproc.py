"""psycopg connections to a `dsql serve` child (dsql.server.child.ServeProcess) for workloads."""

from __future__ import annotations

from dsql.server.child import ServeProcess


def psycopg_connector(srv: ServeProcess):  # type: ignore[no-untyped-def]
    """A connect() for the workloads: a fresh psycopg connection to the server's current port
    (autocommit off, so statements form transactions until commit())."""
    import psycopg

    def connect():  # type: ignore[no-untyped-def]
        if not srv.port:
            raise ConnectionError("dsql serve is not running")
        return psycopg.connect(srv.dsn)
    return connect
