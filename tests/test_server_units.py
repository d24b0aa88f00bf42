"""Unit checks of the server's pure parts: framing, COPY formats, startup options, values.

Goal: the pieces the protocol tests build on are right on their own, including on inputs the
clients never send. Method: hypothesis round trips against simple reference behaviour
(messages split at every chunk boundary, COPY rows encoded then decoded from random chunks,
generated DataRow writers against the plain loop) and table-driven cases.
"""

from __future__ import annotations

import struct
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsql.errors import DsqlError
from dsql.server import binary, parameters
from dsql.server.config import parse_duration_ms
from dsql.server.copyformat import CopyFormat, RowDecoder, encode_rows, split_text_line
from dsql.server.errors import ProtocolViolation
from dsql.server.framing import FrameBuffer
from dsql.server.messages import Reader
from dsql.server.query import Deallocate, server_statement
from dsql.server.startup import (
    normalize_client_encoding,
    parse_options,
    parse_startup_packet,
    resolve_startup,
    split_options,
)
from dsql.server.values import (
    append_data_rows,
    append_data_rows_generic,
    decode_params,
    param_decoders,
    text_encoder,
)
from dsql.sql.types.context import ValueContext


def _msg(t: bytes, body: bytes) -> bytes:
    return t + struct.pack("!i", len(body) + 4) + body


# -- framing -----------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list(b"QPBDESHCdcfX")), st.binary(max_size=40)),
                min_size=1, max_size=8), st.data())
def test_framing_any_chunking(msgs: list[tuple[int, bytes]], data: st.DataObject) -> None:
    stream = b"".join(_msg(bytes([t]), b) for t, b in msgs)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    fb = FrameBuffer()
    fb.end_startup()
    got = []
    prev = 0
    for cut in [*cuts, len(stream)]:
        fb.feed(stream[prev:cut])
        prev = cut
        while (m := fb.next()) is not None:
            got.append(m)
    assert got == msgs
    assert fb.buffered_bytes == 0


def test_framing_rejects_and_stays_poisoned() -> None:
    fb = FrameBuffer(large_max=20_000)
    fb.feed(struct.pack("!ii", 4, 0))
    with pytest.raises(ProtocolViolation, match="startup packet"):
        fb.next()
    with pytest.raises(ProtocolViolation):
        fb.next()
    for data, text in [(b"Z", "message type 90"), (_msg(b"S", b"x" * 10_001), "length"),
                       (b"Q" + struct.pack("!i", 20_001), "20001"),
                       (b"p" + struct.pack("!i", 70_000), "length")]:
        fb = FrameBuffer(large_max=20_000)
        fb.end_startup()
        fb.feed(data)
        with pytest.raises(ProtocolViolation) as info:
            fb.next()
        assert text in f"{info.value.message} {info.value.detail}"


def test_reader_bounds() -> None:
    r = Reader(b"ab\0\x00\x01")
    assert r.cstring() == "ab" and r.int16() == 1
    r.finish()
    for body, op in [(b"\x00", "int16"), (b"abc", "cstring"), (b"\xff\0", "cstring")]:
        with pytest.raises(ProtocolViolation):
            getattr(Reader(body), op)()
    with pytest.raises(ProtocolViolation, match="invalid message format"):
        Reader(b"x").finish()


# -- startup -----------------------------------------------------------------------------------

def test_options_and_startup() -> None:
    assert split_options(r"-c a=b\ c  --x-y=1") == ["-c", "a=b c", "--x-y=1"]
    assert parse_options("-c search_path=public -cTimeZone=UTC --statement-timeout=5s") == {
        "search_path": "public", "TimeZone": "UTC", "statement_timeout": "5s"}
    for bad in ("-c", "-B 10", "-c novalue", "--=x"):
        with pytest.raises(DsqlError) as info:
            parse_options(bad)
        assert info.value.sqlstate == "42601"
    assert normalize_client_encoding("utf-8") == "UTF8"
    assert normalize_client_encoding("UNICODE") == "UTF8"
    assert normalize_client_encoding("sql_ascii") == "SQL_ASCII"
    body = struct.pack("!i", 196608) + b"user\0u\0options\0-c DateStyle=ISO\0x\0y\0\0"
    req = resolve_startup(parse_startup_packet(body))
    assert (req.user, req.database, req.settings) == ("u", "u", {"x": "y", "DateStyle": "ISO"})
    with pytest.raises(ProtocolViolation):
        parse_startup_packet(struct.pack("!i", 196608) + b"user\0u\0")
    cancel = parse_startup_packet(struct.pack("!iii", 80877102, 7, -9))
    assert cancel.is_cancel_request and (cancel.cancel_pid, cancel.cancel_secret) == (7, -9)


def test_durations() -> None:
    assert [parse_duration_ms(t) for t in ("0", "250", "250ms", "2s", "1.5s", "1min", "1h",
                                           "1d", "1500us")] == [
        0, 250, 250, 2000, 1500, 60_000, 3_600_000, 86_400_000, 2]
    for bad in ("", "x", "5 parsecs", "-1"):
        with pytest.raises(ValueError):
            parse_duration_ms(bad)


def test_value_context_from_settings() -> None:
    ctx = parameters.value_context({"TimeZone": "Asia/Tokyo", "DateStyle": "ISO, DMY"})
    assert ctx.timezone_name == "Asia/Tokyo" and ctx.date_order == "DMY"
    assert parameters.value_context({"TimeZone": "Asia/Tokyo"}, ctx) is ctx
    assert parameters.value_context({"TimeZone": "No/Such"}).timezone_name == "UTC"
    assert parameters.canonical_name("timezone") == "TimeZone"
    assert parameters.canonical_name("search_path") is None


def test_deallocate_is_recognised() -> None:
    assert server_statement("DEALLOCATE ALL") == Deallocate(None)
    assert server_statement(" deallocate prepare _pg3_1 ;") == Deallocate("_pg3_1")
    assert server_statement('DEALLOCATE "Mixed""Q"') == Deallocate('Mixed"Q')
    assert server_statement("SELECT 1") is None
    assert server_statement("DEALLOCATE a; SELECT 1") is None


# -- values ------------------------------------------------------------------------------------

_cell = st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1))


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 9).flatmap(
    lambda w: st.lists(st.lists(_cell, min_size=w, max_size=w).map(tuple), max_size=20)
    .map(lambda rows: (w, rows))))
def test_generated_row_writer_matches_generic(case: tuple[int, list[tuple[int | None, ...]]]
                                              ) -> None:
    width, rows = case
    encoders = [binary.encode_int4 if i % 2 else text_encoder(23, ValueContext())
                for i in range(width)]
    fast, slow = bytearray(), bytearray()
    append_data_rows(fast, rows, encoders)
    append_data_rows_generic(slow, rows, encoders)
    assert fast == slow


def test_param_decoding_uses_session_zone() -> None:
    ctx = parameters.value_context({"TimeZone": "America/New_York"})
    decs = param_decoders([1184, 0, 1700, 26], [0, 0, 1, 0], ctx)
    values = decode_params([b"2024-01-01 00:00", b"free text",
                            binary.encode_numeric(binary.Decimal("-1.5")), b"42"],
                           decs, [0, 0, 1, 0])
    assert values == [datetime(2024, 1, 1, 5, 0, tzinfo=timezone.utc), "free text",
                      binary.Decimal("-1.5"), 42]
    with pytest.raises(DsqlError) as info:
        decode_params([b"\x00"], param_decoders([23], [1], ctx), [1])
    assert info.value.sqlstate == "22P03" and "parameter 1" in info.value.message
    with pytest.raises(DsqlError) as info:
        param_decoders([0], [1], ctx)
    assert info.value.sqlstate == "42P18"


# -- COPY formats ------------------------------------------------------------------------------

_field = st.one_of(st.none(), st.text(alphabet=st.characters(blacklist_characters="\0",
                                                             blacklist_categories=("Cs",)),
                                      max_size=12))


@settings(max_examples=120, deadline=None)
@given(st.lists(st.lists(_field, min_size=3, max_size=3), min_size=1, max_size=12),
       st.sampled_from([CopyFormat.text(), CopyFormat.csv_format(),
                        CopyFormat.text(delimiter=","),
                        CopyFormat.csv_format(delimiter="|", null="NULL", escape="\\")]),
       st.data())
def test_copy_round_trip(rows: list[list[str | None]], fmt: CopyFormat,
                         data: st.DataObject) -> None:
    encoded = encode_rows(rows, fmt, header=["a", "b", "c"] if fmt.header else None)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(encoded)), max_size=5)))
    dec = RowDecoder(fmt)
    got: list[list[str | None]] = []
    prev = 0
    for cut in [*cuts, len(encoded)]:
        got.extend(dec.feed(encoded[prev:cut]))
        prev = cut
    got.extend(dec.finish())
    assert got == rows


def test_copy_text_details() -> None:
    fmt = CopyFormat.text()
    assert split_text_line(b"a\\tb\t\\N\t\\\\N\t\\101\\x42\\q", fmt) == [
        "a\tb", None, "\\N", "ABq"]
    dec = RowDecoder(CopyFormat.csv_format(header=True))
    assert dec.feed(b'h1,h2\r\n1,"x\r\ny"\r\n\\.\nignored\n') == [["1", "x\r\ny"]]
    dec = RowDecoder(CopyFormat.csv_format())
    dec.feed(b'1,"open')
    with pytest.raises(DsqlError) as info:
        dec.finish()
    assert info.value.sqlstate == "22P04"
    with pytest.raises(DsqlError) as info:
        RowDecoder(fmt).feed(b"\xff\tx\n")
    assert info.value.sqlstate == "22021"
