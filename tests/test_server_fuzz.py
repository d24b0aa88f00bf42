"""Fuzz: random bytes and mutated valid message streams thrown at `dsql serve`.

Goal: no input crashes the server, wedges a connection, leaks a session or touches data:
afterwards the server still answers a normal client, every session it opened is closed, the
table is as it was, and the server logged no internal failure. Method: a seeded generator
makes a bounded number of cases (random bytes from the first byte; random bytes after a valid
startup; mutated valid startup packets; valid read-only message streams with bytes flipped,
inserted, deleted, truncated, duplicated, or a length field overwritten), each sent on its own
loopback connection which is then half-closed; the server must close it within a deadline.
"""

from __future__ import annotations

import logging
import random
import socket
import struct
import time

import psycopg
import pytest

from pgwire_client import (
    COPY_DONE,
    FLUSH,
    SYNC,
    bind,
    close,
    copy_data,
    describe,
    execute,
    parse,
    query,
    startup_packet,
)
from pgwire_fixtures import running_server

SEED = 20240606
CASES = 800
TIME_BUDGET_S = 20.0
CLOSE_DEADLINE_S = 5.0
SERVER_BUG_MARKERS = ("connection job failed", "handshake failed", "unexpected error",
                      "timeout check failed", "closing the session failed")


def valid_stream(rng: random.Random) -> bytes:
    """A plausible read-only client conversation."""
    pieces = [
        query("SELECT 1; SELECT 'a'::text"),
        query("BEGIN; SELECT 1/0; ROLLBACK"),
        query(""),
        parse("", "SELECT $1::int4 + 1") + bind("", "", [b"5"]) + describe("P", "")
        + execute("", 0) + SYNC,
        parse("s", "SELECT generate_series(1, 20)") + bind("p", "s") + execute("p", 3)
        + execute("p", 0) + close("P", "p") + close("S", "s") + SYNC,
        parse("", "SELECT $1::numeric, $2::bytea") + bind(
            "", "", [b"\x00\x01\x00\x00\x00\x00\x00\x00\x00\x05", b"\xff"], formats=[1],
            result_formats=[1]) + execute("", 1) + FLUSH + SYNC,
        query("COPY items TO STDOUT (FORMAT csv)"),
        query("SET application_name = 'fuzz'"),
        copy_data(b"stray") + COPY_DONE,
    ]
    return b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))


def mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not b:
            break
        op = rng.randrange(6)
        i = rng.randrange(len(b))
        if op == 0:
            b[i] = rng.randrange(256)
        elif op == 1:
            b[i:i] = rng.randbytes(rng.randint(1, 8))
        elif op == 2:
            del b[i: i + rng.randint(1, 8)]
        elif op == 3:
            del b[i:]
        elif op == 4:
            b[i:i] = b[i: i + rng.randint(1, 32)]
        else:
            b[i: i + 4] = struct.pack("!i", rng.choice(
                [0, 3, 4, 5, -1, 2**31 - 1, 1 << 30, rng.randrange(2**31)]))
    return bytes(b)


def greeting(sock: socket.socket) -> None:
    sock.sendall(startup_packet({"user": "admin", "database": "dsql"}))
    buf = b""
    while not buf.endswith(b"Z\x00\x00\x00\x05I"):
        chunk = sock.recv(65536)
        assert chunk, "server closed during startup"
        buf += chunk


def throw(host: str, port: int, payload: bytes, after_startup: bool) -> None:
    sock = socket.create_connection((host, port), timeout=CLOSE_DEADLINE_S)
    try:
        if after_startup:
            greeting(sock)
        try:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            return  # the server already closed: fine
        deadline = time.monotonic() + CLOSE_DEADLINE_S
        while time.monotonic() < deadline:
            try:
                if not sock.recv(65536):
                    return
            except ConnectionResetError:
                return
        pytest.fail(f"the server did not close a fuzzed connection: {payload[:80]!r}")
    finally:
        sock.close()


def test_fuzz(caplog: pytest.LogCaptureFixture) -> None:
    rng = random.Random(SEED)
    caplog.set_level(logging.WARNING, logger="dsql.server")
    with running_server(max_connections=20, message_size_max=1 << 20) as srv:
        dsn = srv.dsn()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("DELETE FROM items")
            conn.execute("INSERT INTO items VALUES (1, 'keep'), (2, 'me')")
        t0 = time.monotonic()
        done = 0
        for case in range(CASES):
            if time.monotonic() - t0 > TIME_BUDGET_S:
                break
            kind = case % 4
            if kind == 0:
                payload, after = rng.randbytes(rng.randint(1, 300)), False
            elif kind == 1:
                payload, after = rng.randbytes(rng.randint(1, 300)), True
            elif kind == 2:
                params = {"user": "admin", "database": "dsql", "application_name": "f"}
                payload, after = mutate(rng, startup_packet(params) + query("SELECT 1")), False
            else:
                payload, after = mutate(rng, valid_stream(rng)), True
            throw(srv.host, srv.port, payload, after)
            done += 1
        assert done >= 100, "too few fuzz cases ran within the time budget"
        with psycopg.connect(dsn, autocommit=True) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            assert conn.execute("SELECT id, name FROM items ORDER BY id").fetchall() == [
                (1, "keep"), (2, "me")]
        server = srv.thread.server
        for _ in range(500):
            if server.connection_count == 0:
                break
            time.sleep(0.01)
        assert server.connection_count == 0
        db = srv.backend.db
        assert db.sessions_opened == db.sessions_closed
    bugs = [r.getMessage() for r in caplog.records
            if any(marker in r.getMessage() for marker in SERVER_BUG_MARKERS)]
    assert bugs == []
