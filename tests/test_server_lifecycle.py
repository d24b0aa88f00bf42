"""Connection lifecycle of `dsql serve`: cancel, max_connections, timeouts, bad input, shutdown.

Goal: the behaviours PostgreSQL clients depend on outside of query results: CancelRequest
cancels the running statement (57014) and nothing else; max_connections gives 53300;
statement_timeout and idle_in_transaction_session_timeout fire; malformed, oversized or
truncated messages get FATAL 08P01 and only that connection closes; SIGTERM-style shutdown lets
running statements finish and closes sessions. Method: psycopg and the hand-written client
against in-process servers with the test backend.
"""

from __future__ import annotations

import struct
import threading
import time

import psycopg
import pytest

from pgwire_client import (
    SYNC,
    RawClient,
    bind,
    cstr,
    data_row,
    fields,
    msg,
    parse,
    query,
    startup_packet,
)
from pgwire_fixtures import Running, running_server, server  # noqa: F401


def test_cancel_request_cancels_running_statement(server: Running) -> None:  # noqa: F811
    # cancel_safe: psycopg's legacy cancel() blocks holding the GIL, which would stall an
    # in-process server; test_server_psql.py covers cancel() against a server process.
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        timer = threading.Timer(0.3, conn.cancel_safe)
        timer.start()
        t0 = time.monotonic()
        with pytest.raises(psycopg.errors.QueryCanceled) as info:
            conn.execute("SELECT pg_sleep(20)")
        assert time.monotonic() - t0 < 10
        assert info.value.diag.message_primary == "canceling statement due to user request"
        assert conn.execute("SELECT 5").fetchone() == (5,)  # the session goes on


def test_cancel_with_wrong_key_or_idle_does_nothing(server: Running) -> None:  # noqa: F811
    with RawClient(server.host, server.port) as c:
        c.startup()
        c.send(query("SELECT pg_sleep(0.5)"))
        with RawClient(server.host, server.port) as other:
            other.send(struct.pack("!iiii", 16, 80877102, c.pid, c.secret ^ 1))
            assert other.closed_by_server()
        msgs = c.read_until_ready()
        assert [t for t, _ in msgs] == ["T", "D", "C", "Z"]
        # A cancel while idle is a no-op: the next statement runs normally.
        with RawClient(server.host, server.port) as other:
            other.send(struct.pack("!iiii", 16, 80877102, c.pid, c.secret))
            assert other.closed_by_server()
        time.sleep(0.05)
        c.send(query("SELECT 1"))
        assert [t for t, _ in c.read_until_ready()] == ["T", "D", "C", "Z"]


def test_cancel_during_copy_in(server: Running) -> None:  # noqa: F811
    with RawClient(server.host, server.port) as c:
        c.startup()
        c.send(query("COPY items FROM STDIN"))
        assert c.read()[0] == "G"
        with RawClient(server.host, server.port) as other:
            other.send(struct.pack("!iiii", 16, 80877102, c.pid, c.secret))
            assert other.closed_by_server()
        msgs = c.read_until_ready()
        assert fields(msgs[0][1])["C"] == "57014"


def test_max_connections(server: Running) -> None:  # noqa: F811
    with running_server(max_connections=2) as srv:
        a = psycopg.connect(srv.dsn(), autocommit=True)
        b = psycopg.connect(srv.dsn(), autocommit=True)
        with pytest.raises(psycopg.OperationalError) as info:
            psycopg.connect(srv.dsn())
        assert "sorry, too many clients already" in str(info.value)
        with RawClient(srv.host, srv.port) as raw:
            raw.send(startup_packet({"user": "admin"}))
            t, body = raw.read()
            assert t == "E" and fields(body)["C"] == "53300" and fields(body)["S"] == "FATAL"
        a.close()
        for _ in range(200):  # the slot frees once the server has closed the session
            try:
                c = psycopg.connect(srv.dsn(), autocommit=True)
                break
            except psycopg.OperationalError:
                time.sleep(0.01)
        assert c.execute("SELECT 1").fetchone() == (1,)
        c.close()
        b.close()


def test_statement_timeout_from_options_and_set(server: Running) -> None:  # noqa: F811
    with psycopg.connect(server.dsn(options="-c\\ statement_timeout=200"),
                         autocommit=True) as conn:
        with pytest.raises(psycopg.errors.QueryCanceled) as info:
            conn.execute("SELECT pg_sleep(10)")
        assert "statement timeout" in info.value.diag.message_primary
        conn.execute("SET statement_timeout = 0")
        assert conn.execute("SELECT pg_sleep(0.3)").fetchone() == ("",)
        conn.execute("SET statement_timeout = '100ms'")
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SELECT pg_sleep(10)")


def test_idle_in_transaction_timeout(server: Running) -> None:  # noqa: F811
    with RawClient(server.host, server.port) as c:
        c.startup(options="-c idle_in_transaction_session_timeout=150")
        c.send(query("BEGIN"))
        assert c.read_until_ready()[-1] == ("Z", b"T")
        t, body = c.read()  # arrives on its own after the timeout
        err = fields(body)
        assert (t, err["S"], err["C"]) == ("E", "FATAL", "25P03")
        assert c.closed_by_server()
    with running_server(idle_in_transaction_timeout_ms=100) as srv:
        with RawClient(srv.host, srv.port) as c:
            c.startup()
            time.sleep(0.3)  # idle outside a transaction: no timeout
            c.send(query("SELECT 1"))
            assert c.read_until_ready()[-1] == ("Z", b"I")


@pytest.mark.parametrize(("payload", "text"), [
    (msg(b"Y", b""), "invalid frontend message type"),
    (b"S" + struct.pack("!i", 20000), "invalid message length"),
    (b"Q" + struct.pack("!i", 2), "invalid message length"),
    (msg(b"Q", b"SELECT 1"), "invalid string in message"),
    (msg(b"Q", b"SELECT '\xff'\0"), "invalid byte sequence"),
    (msg(b"Q", b"SELECT 1\0extra"), "invalid message format"),
    (msg(b"B", cstr("") + cstr("") + struct.pack("!h", 5)), "insufficient data"),
    (msg(b"E", cstr("")), "insufficient data"),
    (msg(b"p", b"late password"), "unexpected message type"),
    (msg(b"D", b"S"), "invalid string in message"),
])
def test_malformed_message_is_fatal_08P01(server: Running, payload: bytes,  # noqa: F811
                                          text: str) -> None:
    with RawClient(server.host, server.port) as bystander, \
            RawClient(server.host, server.port) as c:
        bystander.startup()
        c.startup()
        c.send(payload)
        t, body = c.read()
        err = fields(body)
        assert (t, err["S"], err["C"]) == ("E", "FATAL", "08P01"), err
        assert text in err["M"], err
        assert c.closed_by_server()
        bystander.send(query("SELECT 2"))
        assert [data_row(b) for t, b in bystander.read_until_ready() if t == "D"] == [[b"2"]]


def test_messages_before_a_bad_one_are_answered(server: Running) -> None:  # noqa: F811
    with RawClient(server.host, server.port) as c:
        c.startup()
        c.send(query("SELECT 1"), parse("", "SELECT 2"), SYNC, msg(b"Y"))
        assert [t for t, _ in c.read_until_ready()] == ["T", "D", "C", "Z"]
        assert [t for t, _ in c.read_until_ready()] == ["1", "Z"]
        t, body = c.read()
        assert fields(body)["C"] == "08P01"


def test_message_size_cap_is_configurable() -> None:
    with running_server(message_size_max=20_000) as srv, RawClient(srv.host, srv.port) as c:
        c.startup()
        c.send(b"Q" + struct.pack("!i", 50_000))
        err = fields(c.read()[1])
        assert err["C"] == "08P01" and "50000" in err.get("D", "")


def test_shutdown_lets_statement_finish_then_closes() -> None:
    with running_server(shutdown_timeout_s=5.0) as srv:
        with RawClient(srv.host, srv.port) as busy, RawClient(srv.host, srv.port) as idle:
            busy.startup()
            idle.startup()
            busy.send(query("SELECT pg_sleep(0.5)"))
            time.sleep(0.1)
            stopper = threading.Thread(target=srv.thread.stop)
            stopper.start()
            msgs = busy.read_until_ready()
            assert [t for t, _ in msgs] == ["T", "D", "C", "Z"]  # finished normally
            t, body = busy.read()
            assert fields(body)["C"] == "57P01" and fields(body)["S"] == "FATAL"
            t, body = idle.read()
            assert fields(body)["C"] == "57P01"
            stopper.join(10)
            assert not stopper.is_alive()
        assert srv.backend.db.closed
        assert srv.backend.db.sessions_closed == srv.backend.db.sessions_opened == 2
        with pytest.raises(OSError):
            RawClient(srv.host, srv.port, timeout_s=1).startup()


def test_shutdown_deadline_cancels_long_statement() -> None:
    with running_server(shutdown_timeout_s=0.3) as srv, RawClient(srv.host, srv.port) as c:
        c.startup()
        c.send(query("SELECT pg_sleep(20)"))
        time.sleep(0.1)
        t0 = time.monotonic()
        srv.thread.stop()
        assert time.monotonic() - t0 < 5
        msgs = []
        try:
            for _ in range(10):
                msgs.append(c.read())
        except ConnectionError:
            pass
        codes = [fields(b)["C"] for t, b in msgs if t == "E"]
        assert codes[0] == "57014"


def test_client_vanishing_mid_statement_closes_session() -> None:
    with running_server() as srv:
        c = RawClient(srv.host, srv.port)
        c.startup()
        c.send(query("SELECT pg_sleep(0.3)"))
        c.close()
        # The session is closed first, then the connection's slot is released: wait for both.
        for _ in range(300):
            if (srv.backend.db.sessions_closed == 1
                    and srv.thread.server.connection_count == 0):
                break
            time.sleep(0.01)
        assert srv.backend.db.sessions_closed == 1
        assert srv.thread.server.connection_count == 0


def test_extended_bind_with_many_params_is_bounded(server: Running) -> None:  # noqa: F811
    with RawClient(server.host, server.port) as c:
        c.startup()
        c.send(parse("", "SELECT $1::int4 + 1"), bind("", "", [b"1"] * 3), SYNC)
        err = fields(c.read_until_ready()[1][1])
        assert err["C"] == "08P01" and "supplies 3 parameters" in err["M"]


def test_sockets_in_startup_are_capped() -> None:
    import socket

    from dsql.server.server import HANDSHAKES_EXTRA

    with running_server(max_connections=1) as srv:
        socks = [socket.create_connection((srv.host, srv.port), timeout=5)
                 for _ in range(1 + HANDSHAKES_EXTRA + 3)]
        try:
            closed = 0
            for s in socks[-3:]:
                s.settimeout(5)
                closed += s.recv(1) == b""
            assert closed == 3
            socks[0].settimeout(0.2)  # an early one is still waiting for its startup packet
            with pytest.raises(TimeoutError):
                socks[0].recv(1)
        finally:
            for s in socks:
                s.close()
        for _ in range(100):  # the server frees the slots as it sees the sockets close
            if srv.thread.server.connection_count == 0 and \
                    len(srv.thread.server._connections) == 0:
                break
            time.sleep(0.01)
        with psycopg.connect(srv.dsn(), autocommit=True) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
