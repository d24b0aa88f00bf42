"""Protocol-level behaviour of `dsql serve`, checked message by message.

Goal: the extended protocol (Parse/Bind/Describe/Execute/Sync/Flush/Close, named and unnamed
statements and portals, row limits with PortalSuspended, error -> skip until Sync), simple
query (several statements, empty query, error skips the rest), COPY, ParameterStatus and the
startup edge cases behave as PostgreSQL documents. Method: a hand-written client
(pgwire_client.py) against the in-process server with the test backend.
"""

from __future__ import annotations

import struct
import time

import pytest

from dsql.server import binary
from pgwire_client import (
    COPY_DONE,
    FLUSH,
    SYNC,
    TERMINATE,
    RawClient,
    bind,
    close,
    copy_data,
    copy_fail,
    data_row,
    describe,
    execute,
    fields,
    msg,
    parse,
    query,
    row_description,
    startup_packet,
)
from pgwire_fixtures import Running, server  # noqa: F401


@pytest.fixture()
def client(server: Running) -> RawClient:  # noqa: F811
    c = RawClient(server.host, server.port)
    c.startup()
    yield c
    c.close()


def types(msgs: list[tuple[str, bytes]]) -> str:
    return "".join(t for t, _ in msgs)


def test_greeting_reports_parameters_and_key(server: Running) -> None:  # noqa: F811
    with RawClient(server.host, server.port) as c:
        msgs = c.startup(application_name="probe", options="-c DateStyle=ISO,\\ DMY")
        assert types(msgs)[0] == "R" and types(msgs).endswith("KZ")
        p = c.params
        assert p["server_version"].startswith("16.")
        for name, want in [("server_encoding", "UTF8"), ("client_encoding", "UTF8"),
                           ("integer_datetimes", "on"), ("standard_conforming_strings", "on"),
                           ("application_name", "probe"), ("is_superuser", "on"),
                           ("session_authorization", "admin"), ("IntervalStyle", "postgres"),
                           ("DateStyle", "ISO, DMY"), ("TimeZone", "UTC")]:
            assert p[name] == want, name
        assert c.pid > 0
        assert msgs[-1] == ("Z", b"I")


def test_simple_query_several_statements(client: RawClient) -> None:
    client.send(query("SELECT 1; SELECT generate_series(1, 3); SELECT 'x' AS y"))
    msgs = client.read_until_ready()
    assert types(msgs) == "TDC" + "TDDDC" + "TDC" + "Z"
    assert [data_row(b) for t, b in msgs if t == "D"] == [[b"1"], [b"1"], [b"2"], [b"3"],
                                                          [b"x"]]
    assert [b for t, b in msgs if t == "C"] == [b"SELECT 1\0", b"SELECT 3\0", b"SELECT 1\0"]


def test_simple_query_error_skips_rest(client: RawClient) -> None:
    client.send(query("SELECT 1; SELECT 1/0; SELECT 2"))
    msgs = client.read_until_ready()
    assert types(msgs) == "TDCEZ"
    err = fields(msgs[3][1])
    assert err["C"] == "22012" and err["S"] == "ERROR" and err["V"] == "ERROR"
    assert err["M"] == "division by zero"


def test_empty_query(client: RawClient) -> None:
    for sql in ("", "   ", ";", " ; ;"):
        client.send(query(sql))
        assert types(client.read_until_ready()) == "IZ"


def test_syntax_error_has_position_and_notice_has_hint(client: RawClient) -> None:
    client.send(query("FROBNICATE everything"))
    msgs = client.read_until_ready()
    err = fields(msgs[0][1])
    assert err["C"] == "42601" and err["P"] == "1" and "FROBNICATE" in err["M"]
    client.send(query("SELECT notice('careful')"))
    msgs = client.read_until_ready()
    assert types(msgs) == "NTDCZ"
    notice = fields(msgs[0][1])
    assert notice["S"] == "NOTICE" and notice["M"] == "careful" and notice["H"]


def test_transaction_status_and_failed_block(client: RawClient) -> None:
    client.send(query("BEGIN"))
    assert client.read_until_ready()[-1] == ("Z", b"T")
    client.send(query("SELECT 1/0"))
    assert client.read_until_ready()[-1] == ("Z", b"E")
    client.send(query("SELECT 1"))
    msgs = client.read_until_ready()
    assert fields(msgs[0][1])["C"] == "25P02" and msgs[-1] == ("Z", b"E")
    client.send(query("ROLLBACK"))
    assert client.read_until_ready()[-1] == ("Z", b"I")


def test_set_sends_parameter_status(client: RawClient) -> None:
    client.send(query("SET application_name = 'renamed'; SET TimeZone TO 'Europe/Paris'"))
    msgs = client.read_until_ready()
    statuses = [b.split(b"\0")[:2] for t, b in msgs if t == "S"]
    assert [b"application_name", b"renamed"] in statuses
    assert [b"TimeZone", b"Europe/Paris"] in statuses
    # A timestamptz now prints in the session's zone.
    client.send(query("SELECT '2024-01-01 12:00+00'::timestamptz"))
    rows = [data_row(b) for t, b in client.read_until_ready() if t == "D"]
    assert rows == [[b"2024-01-01 13:00:00+01"]]


def test_extended_unnamed_with_describe(client: RawClient) -> None:
    client.send(parse("", "SELECT $1::int4 + 1"), describe("S", ""),
                bind("", "", [b"41"]), describe("P", ""), execute("", 0), SYNC)
    msgs = client.read_until_ready()
    assert types(msgs) == "1tT2TDCZ"
    assert struct.unpack("!hI", msgs[1][1]) == (1, 23)
    desc = row_description(msgs[2][1])
    assert desc[0]["type_oid"] == 23 and desc[0]["typlen"] == 4 and desc[0]["format"] == 0
    assert data_row(msgs[5][1]) == [b"42"]


def test_parameter_type_inference_when_client_sends_zero(client: RawClient) -> None:
    client.send(parse("s1", "SELECT $1::numeric, $2", [0, 0]), describe("S", "s1"), SYNC)
    msgs = client.read_until_ready()
    assert types(msgs) == "1tTZ"
    assert struct.unpack("!hII", msgs[1][1]) == (2, 1700, 25)


def test_binary_parameters_and_results(client: RawClient) -> None:
    client.send(parse("", "SELECT $1::int8, $2::numeric, $3::timestamptz"),
                bind("", "", [struct.pack("!q", -5), binary.encode_numeric(
                    binary.Decimal("12.340")), struct.pack("!q", 0)],
                     formats=[1], result_formats=[1]),
                describe("P", ""), execute(""), SYNC)
    msgs = client.read_until_ready()
    assert types(msgs) == "12TDCZ"
    assert [c["format"] for c in row_description(msgs[2][1])] == [1, 1, 1]
    i8, num, ts = data_row(msgs[3][1])
    assert struct.unpack("!q", i8)[0] == -5
    assert str(binary.decode_numeric(num)) == "12.340"
    assert struct.unpack("!q", ts)[0] == 0


def test_row_limit_portal_suspended_and_resume(client: RawClient) -> None:
    client.send(parse("series", "SELECT generate_series(1, 5)"),
                bind("p1", "series"), execute("p1", 2), execute("p1", 2), FLUSH)
    msgs = [client.read() for _ in range(2 + 3 + 3)]
    assert types(msgs) == "12DDsDDs"
    client.send(execute("p1", 2), execute("p1", 0), SYNC)
    msgs = client.read_until_ready()
    assert types(msgs) == "DCCZ"
    assert data_row(msgs[0][1]) == [b"5"]
    assert msgs[1][1] == b"SELECT 1\0"
    assert msgs[2][1] == b"SELECT 0\0"  # an exhausted portal returns no more rows
    # Portals end with the (implicit) transaction: p1 is gone after Sync.
    client.send(execute("p1", 1), SYNC)
    msgs = client.read_until_ready()
    assert fields(msgs[0][1])["C"] == "34000"


def test_named_statement_reuse_close_and_duplicates(client: RawClient) -> None:
    client.send(parse("st", "SELECT $1::int4 + 1"), SYNC)
    assert types(client.read_until_ready()) == "1Z"
    for v in (b"1", b"2"):
        client.send(bind("", "st", [v]), execute(""), SYNC)
        assert [data_row(b) for t, b in client.read_until_ready() if t == "D"] == [
            [str(int(v) + 1).encode()]]
    client.send(parse("st", "SELECT 1"), SYNC)
    msgs = client.read_until_ready()
    assert fields(msgs[0][1])["C"] == "42P05"
    client.send(close("S", "st"), close("S", "never-existed"), SYNC)
    assert types(client.read_until_ready()) == "33Z"
    client.send(bind("", "st", [b"1"]), SYNC)
    assert fields(client.read_until_ready()[0][1])["C"] == "26000"


def test_error_discards_until_sync(client: RawClient) -> None:
    client.send(parse("", "SELECT 1/0"), bind("", ""), execute(""),
                parse("", "SELECT 1"), bind("", ""), execute(""), SYNC,
                parse("", "SELECT 2"), bind("", ""), execute(""), SYNC)
    first = client.read_until_ready()
    assert types(first) == "12EZ"
    assert fields(first[2][1])["C"] == "22012"
    second = client.read_until_ready()
    assert types(second) == "12DCZ"


def test_bind_errors(client: RawClient) -> None:
    client.send(parse("two", "SELECT $1::int4, $2::int4"), SYNC)
    client.read_until_ready()
    cases = [
        (bind("", "two", [b"1"]), "08P01", "supplies 1 parameters"),
        (bind("", "two", [b"1", b"x"]), "22P02", "integer"),
        (bind("", "two", [b"1", b"\0\0"], formats=[0, 1]), "22P03", "bind parameter 2"),
        (bind("", "two", [b"1", b"2"], formats=[0, 0, 0]), "08P01", "parameter formats"),
        (bind("", "two", [b"1", b"2"], result_formats=[0, 0, 0]), "08P01", "result formats"),
        (bind("", "two", [b"1", b"2"], formats=[7]), "22023", "format code"),
    ]
    for message, sqlstate, text in cases:
        client.send(message, SYNC)
        msgs = client.read_until_ready()
        err = fields(msgs[0][1])
        assert (err["C"], text in err["M"]) == (sqlstate, True), err
    client.send(bind("", "two", [b"1", b"\xff"]), SYNC)
    assert fields(client.read_until_ready()[0][1])["C"] == "22021"


def test_describe_no_data_and_empty_statement(client: RawClient) -> None:
    client.send(parse("", "BEGIN"), describe("S", ""), bind("", ""), describe("P", ""),
                execute(""), SYNC)
    msgs = client.read_until_ready()
    assert types(msgs) == "1tn2nCZ"
    assert msgs[-1] == ("Z", b"T")
    client.send(query("ROLLBACK"))
    client.read_until_ready()
    client.send(parse("", ""), bind("", ""), execute(""), SYNC)
    assert types(client.read_until_ready()) == "12IZ"


def test_copy_in_text_and_out_csv(client: RawClient) -> None:
    client.send(query("DELETE FROM items"))
    client.read_until_ready()
    client.send(query("COPY items FROM STDIN"))
    t, body = client.read()
    assert t == "G" and body == struct.pack("!bhhh", 0, 2, 0, 0)
    client.send(copy_data(b"1\tone\n2\t"), copy_data(b"two\\ttab\n3\t\\N\n"), COPY_DONE)
    msgs = client.read_until_ready()
    assert msgs[0] == ("C", b"COPY 3\0")
    client.send(query("COPY items TO STDOUT (FORMAT csv)"))
    msgs = client.read_until_ready()
    assert types(msgs)[0] == "H" and types(msgs).endswith("cCZ")
    data = b"".join(b for t, b in msgs if t == "d")
    assert data == b"1,one\n2,two\ttab\n3,\n"


def test_copy_fail_and_errors_drop_the_rest(client: RawClient) -> None:
    client.send(query("COPY items FROM STDIN"))
    assert client.read()[0] == "G"
    client.send(copy_data(b"9\tnine\n"), copy_fail("client gave up"))
    msgs = client.read_until_ready()
    err = fields(msgs[0][1])
    assert err["C"] == "57014" and "client gave up" in err["M"]
    # A data error mid-copy: the error comes back, the rest of the copy stream is dropped.
    client.send(query("COPY items FROM STDIN"))
    assert client.read()[0] == "G"
    client.send(copy_data(b"x\ty\n"), copy_data(b"1\tz\n"), COPY_DONE)
    msgs = client.read_until_ready()
    assert fields(msgs[0][1])["C"] == "22P02"
    client.send(query("SELECT 7"))
    assert [data_row(b) for t, b in client.read_until_ready() if t == "D"] == [[b"7"]]


def test_copy_in_extended_protocol(client: RawClient) -> None:
    client.send(query("DELETE FROM items"))
    client.read_until_ready()
    client.send(parse("", "COPY items FROM STDIN (FORMAT csv)"), bind("", ""),
                execute(""), FLUSH)
    assert types([client.read(), client.read(), client.read()]) == "12G"
    client.send(copy_data(b'5,"a,b"\n'), COPY_DONE, SYNC)
    msgs = client.read_until_ready()
    assert msgs[0] == ("C", b"COPY 1\0") and msgs[-1] == ("Z", b"I")


def test_pipelined_startup_and_queries(server: Running) -> None:  # noqa: F811
    with RawClient(server.host, server.port) as c:
        c.send(startup_packet({"user": "admin", "database": "dsql"}), query("SELECT 11"),
               query("SELECT 12"))
        c.read_until_ready()  # greeting
        assert [data_row(b) for t, b in c.read_until_ready() if t == "D"] == [[b"11"]]
        assert [data_row(b) for t, b in c.read_until_ready() if t == "D"] == [[b"12"]]


def test_ssl_and_gss_requests_refused_without_tls(server: Running) -> None:  # noqa: F811
    with RawClient(server.host, server.port) as c:
        c.send(struct.pack("!ii", 8, 80877104))
        assert c.read_raw(1) == b"N"
        c.send(struct.pack("!ii", 8, 80877103))
        assert c.read_raw(1) == b"N"
        c.startup()


def test_newer_protocol_minor_is_negotiated(server: Running) -> None:  # noqa: F811
    with RawClient(server.host, server.port) as c:
        c.send(startup_packet({"user": "admin", "database": "dsql", "_pq_.frob": "1"},
                              version=(3 << 16) | 2))
        msgs = c.read_until_ready()
        assert msgs[0][0] == "v"
        minor, n = struct.unpack_from("!ii", msgs[0][1])
        assert (minor, n) == (0, 1) and b"_pq_.frob" in msgs[0][1]


@pytest.mark.parametrize(("packet", "sqlstate"), [
    (startup_packet({"user": "admin"}, version=2 << 16), "0A000"),
    (startup_packet({"database": "dsql"}), "28000"),
    (startup_packet({"user": "ghost"}), "28000"),
    (startup_packet({"user": "admin", "database": "nosuchdb"}), "3D000"),
    (startup_packet({"user": "admin", "client_encoding": "LATIN1"}), "22023"),
    (startup_packet({"user": "admin", "options": "-X"}), "42601"),
    (struct.pack("!ii", 100_000, 196608), "08P01"),
    (struct.pack("!i", 12) + struct.pack("!i", 196608) + b"user", "08P01"),
])
def test_bad_startup_is_fatal(server: Running, packet: bytes, sqlstate: str) -> None:  # noqa: F811
    with RawClient(server.host, server.port) as c:
        c.send(packet)
        t, body = c.read()
        while t in ("R", "S", "K"):  # auth ok can precede a session-open failure
            t, body = c.read()
        err = fields(body)
        assert (t, err["S"], err["C"]) == ("E", "FATAL", sqlstate), err
        assert c.closed_by_server()


def test_terminate_closes(client: RawClient) -> None:
    client.send(TERMINATE)
    assert client.closed_by_server()


def test_flush_sends_pending_without_sync(client: RawClient) -> None:
    client.send(parse("", "SELECT 1"), FLUSH)
    assert client.read() == ("1", b"")
    client.send(SYNC)
    assert client.read() == ("Z", b"I")


def test_function_call_is_refused_but_connection_lives(client: RawClient) -> None:
    client.send(msg(b"F", struct.pack("!IhhI", 1, 0, 0, 0)))
    msgs = client.read_until_ready()
    assert fields(msgs[0][1])["C"] == "0A000"
    client.send(query("SELECT 3"))
    assert types(client.read_until_ready()) == "TDCZ"


def test_large_result_streams(client: RawClient) -> None:
    t0 = time.monotonic()
    client.send(query("SELECT generate_series(1, 50000)"))
    msgs = client.read_until_ready()
    assert sum(1 for t, _ in msgs if t == "D") == 50000
    assert msgs[-2] == ("C", b"SELECT 50000\0")
    assert time.monotonic() - t0 < 30


def test_sync_ends_the_implicit_transaction(server: Running,  # noqa: F811
                                            client: RawClient) -> None:
    session = server.backend.sessions[-1]
    before = session.sync_calls
    client.send(parse("", "SELECT arm_sync_failure()"), bind("", ""), execute(""), SYNC)
    msgs = client.read_until_ready()
    assert types(msgs) == "12DCEZ"
    err = fields(msgs[4][1])
    assert err["C"] == "40001" and "OC000" in err["M"]
    client.send(SYNC)
    assert types(client.read_until_ready()) == "Z"
    assert session.sync_calls == before + 2
