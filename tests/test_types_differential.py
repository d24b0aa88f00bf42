"""dsql's value layer against a real PostgreSQL 15, on the data files and on generated inputs.

Goal: the same text output, the same NULLs and the same errors (SQLSTATE and message) as
PostgreSQL for input casts, arithmetic, casts and functions. Method: groups of expressions
are generated from a seeded random source (DSQL_DIFF_SEED to vary it; the seed is in every
failure message), sent to a private server in one batch per group (tests/pg_server.py), and
evaluated by tests/sql_expr.py over dsql; every difference is reported. The data files of
tests/sql_types/ are re-checked against the live server too. Generated values stay inside
dsql's documented domain (years 1..9999, no time '24:00', no 'now').
"""

from __future__ import annotations

import json
import os
import random
import string
import struct
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from dsql.sql.types import timezones
from dsql.sql.types.context import ValueContext
from sql_expr import evaluate
from sql_types.cases import all_files, load, outcome_key

if TYPE_CHECKING:
    from pg_server import PostgresServer


SEED = int(os.environ.get("DSQL_DIFF_SEED", "20240506"))
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe",
         "America/Sao_Paulo", "Pacific/Chatham"]


def q(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ctx_for(tz: str) -> ValueContext:
    zone = timezones.zone_for(tz)
    assert zone is not None
    return ValueContext(timezone=zone, timezone_name=tz,
                        transaction_timestamp=datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc))


def check(server: PostgresServer, exprs: list[str], tz: str = "UTC",
          expected: list[str] | None = None) -> None:
    """Evaluates in both and fails listing the differences (at most 25 shown)."""
    results = server.evaluate(exprs, settings={"TimeZone": tz})
    ctx = ctx_for(tz)
    diffs = []
    for i, (e, res) in enumerate(zip(exprs, results, strict=True)):
        theirs = outcome_key(res.value, res.sqlstate, res.message)
        if expected is not None and expected[i] != theirs:
            diffs.append(f"{e}\n    file: {expected[i]}\n    pg:   {theirs}")
            continue
        got = evaluate(e, ctx)
        mine = outcome_key(got.value, got.sqlstate, got.message)
        if mine != theirs:
            diffs.append(f"{e}\n    dsql: {mine}\n    pg:   {theirs}")
    assert not diffs, (f"seed {SEED}, TimeZone {tz}: {len(diffs)} of {len(exprs)} differ:\n"
                       + "\n".join(diffs[:25]))


# -- the data files ----------------------------------------------------------------------------

def test_data_files_agree_with_postgres(postgres_server: PostgresServer) -> None:
    by_tz: dict[str, list[tuple[str, str]]] = {}
    for f in all_files():
        for c in load(f):
            if not c.dsql_only:
                by_tz.setdefault(c.timezone, []).append((c.expr, c.expected))
    for tz, items in by_tz.items():
        check(postgres_server, [e for e, _ in items], tz, [x for _, x in items])


# -- generators --------------------------------------------------------------------------------

def rng(name: str) -> random.Random:
    return random.Random(f"{SEED}:{name}")


def rand_int_text(r: random.Random) -> str:
    bound = r.choice([2**15, 2**31, 2**63])
    v = r.choice([r.randint(-bound - 2, bound + 1), r.randint(-1000, 1000), bound - 1, -bound,
                  bound, -bound - 1])
    s = str(v)
    style = r.random()
    if style < 0.15:
        s = r.choice([" ", "\t", "  "]) + s + r.choice(["", " ", "\n"])
    elif style < 0.2:
        s = "+" + s.lstrip("-")
    elif style < 0.3:
        s = r.choice(["", "-", "+", " ", "1e3", "12.5", "0x1f", "1_0", "abc", "- 5", "٣",
                      s + "x", "++1"])
    return s


def rand_double(r: random.Random) -> float:
    while True:
        kind = r.random()
        if kind < 0.4:
            x = struct.unpack("<d", struct.pack("<Q", r.getrandbits(64)))[0]
        elif kind < 0.7:
            x = r.uniform(-1e6, 1e6)
        else:
            x = r.choice([1, -1]) * r.randint(0, 10**r.randint(1, 17)) / 10**r.randint(0, 20)
        if x == x and abs(x) != float("inf"):
            return x


def rand_float_text(r: random.Random) -> str:
    x = rand_double(r)
    style = r.random()
    if style < 0.5:
        return repr(x)
    if style < 0.7:
        return f"{x:.{r.randint(1, 20)}e}"
    if style < 0.8:
        return f"{x:.{r.randint(0, 25)}f}"
    return r.choice(["NaN", "-Infinity", " inf ", "1e400", "-1e-400", "1e-310", "2.5e-324",
                     "3.4028235e38", "3.5e38", "1.4e-45", "7e-46", "0x1.8p3", "1e", ".", "abc",
                     "1.5.5", "--1", "1e+", " +.5e-3 "])


def rand_decimal_text(r: random.Random, max_int: int = 20, max_frac: int = 20) -> str:
    ip = str(r.randint(0, 10 ** r.randint(0, max_int)))
    fd = r.randint(0, max_frac)
    fp = "".join(r.choice(string.digits) for _ in range(fd))
    s = ip + ("." + fp if fd or r.random() < 0.1 else "")
    if r.random() < 0.4:
        s = "-" + s
    return s


def rand_numeric_text(r: random.Random) -> str:
    style = r.random()
    if style < 0.7:
        return rand_decimal_text(r)
    if style < 0.85:
        return f"{rand_decimal_text(r, 5, 5)}e{r.randint(-30, 30)}"
    return r.choice(["NaN", "Infinity", "-inf", " 1.50 ", "1e", ".", "-0.000", "abc",
                     "1e131071", "1e131072", "1e-16383", "1e-16384", "0e-99"])


def test_input_casts_integers_and_floats(postgres_server: PostgresServer) -> None:
    r = rng("numbers-in")
    exprs = []
    for _ in range(300):
        exprs.append(f"{q(rand_int_text(r))}::{r.choice(['int2', 'int4', 'int8'])}")
    for _ in range(400):
        exprs.append(f"{q(rand_float_text(r))}::{r.choice(['float8', 'float8', 'float4'])}")
    for _ in range(300):
        exprs.append(f"{q(rand_numeric_text(r))}::numeric")
    for _ in range(150):
        p = r.randint(1, 12)
        s = r.randint(-3, p + 2)
        exprs.append(f"{q(rand_numeric_text(r))}::numeric({p},{s})")
    for w in ("t", "true", "yes", "on", "off", "no", "f", "0", "1", "o", "of", "tr", "y", "n",
              "x", "", "TRUE ", " False", "2", "onn", "nope"):
        exprs.append(f"{q(w)}::bool")
    check(postgres_server, exprs)


def test_float_output_and_arithmetic(postgres_server: PostgresServer) -> None:
    r = rng("floats")
    exprs = []
    for _ in range(400):
        x = repr(rand_double(r))
        exprs.append(f"{q(x)}::float8")
        exprs.append(f"{q(x)}::float4")
    ops = ["+", "-", "*", "/"]
    for _ in range(400):
        ta, tb = r.choice(["float8", "float4"]), r.choice(["float8", "float4", "int4"])
        a, b = repr(rand_double(r)), repr(rand_double(r))
        if tb == "int4":
            b = str(r.randint(-10, 10))
        exprs.append(f"{q(a)}::{ta} {r.choice(ops)} {q(b)}::{tb}")
    for _ in range(300):
        a = repr(rand_double(r) if r.random() < 0.5 else r.uniform(-50, 50))
        f = r.choice(["sqrt", "exp", "ln", "log", "round", "ceil", "floor", "trunc", "sign",
                      "abs", "cbrt"])
        exprs.append(f"{f}({q(a)}::float8)")
    for _ in range(200):
        a = repr(r.uniform(-100, 100) if r.random() < 0.7 else rand_double(r))
        b = repr(r.choice([r.uniform(-5, 5), float(r.randint(-5, 5)), rand_double(r)]))
        exprs.append(f"power({q(a)}::float8, {q(b)}::float8)")
    for _ in range(300):
        a = repr(rand_double(r) if r.random() < 0.3 else r.uniform(-1e10, 1e10))
        t = r.choice(["int2", "int4", "int8", "numeric", "float4", "numeric(10,3)"])
        exprs.append(f"{q(a)}::float8::{t}")
        exprs.append(f"{q(a)}::float4::{t}")
    check(postgres_server, exprs)


def test_integer_arithmetic(postgres_server: PostgresServer) -> None:
    r = rng("ints")
    bounds = {"int2": 2**15, "int4": 2**31, "int8": 2**63}

    def val(t: str) -> str:
        b = bounds[t]
        v = r.choice([r.randint(-b, b - 1), r.randint(-100, 100), b - 1, -b,
                      r.randint(-int(b**0.5) - 5, int(b**0.5) + 5)])
        return f"({v})::{t}"
    exprs = []
    for _ in range(1200):
        ta, tb = r.choice(list(bounds)), r.choice(list(bounds))
        op = r.choice(["+", "-", "*", "/", "%", "=", "<", ">="])
        exprs.append(f"{val(ta)} {op} {val(tb)}")
    for _ in range(200):
        t = r.choice(list(bounds))
        exprs.append(r.choice([f"-{val(t)}", f"abs({val(t)})", f"@ {val(t)}",
                               f"{val(t)} << {r.randint(-70, 70)}",
                               f"{val(t)} >> {r.randint(-70, 70)}", f"~{val(t)}",
                               f"{val(t)} & {val(t)}", f"{val(t)} # {val(t)}",
                               f"{val(t)}::{r.choice(list(bounds))}",
                               f"{val(t)}::numeric", f"{val(t)}::float4", f"{val(t)}::float8",
                               f"to_hex({val(t)})"]))
    check(postgres_server, exprs)


def test_numeric_arithmetic(postgres_server: PostgresServer) -> None:
    r = rng("numeric")

    def num() -> str:
        if r.random() < 0.05:
            return q(r.choice(["NaN", "Infinity", "-Infinity", "0"])) + "::numeric"
        return f"{q(rand_decimal_text(r, 12, 12))}::numeric"
    exprs = []
    for _ in range(700):
        exprs.append(f"{num()} {r.choice(['+', '-', '*', '/', '%', '<', '='])} {num()}")
    for _ in range(400):
        f = r.choice(["round", "trunc", "ceil", "floor", "abs", "sign", "sqrt", "exp", "ln",
                      "log", "scale"])
        if f in ("round", "trunc"):
            exprs.append(f"{f}({num()}, {r.randint(-5, 8)})")
        elif f == "exp":
            exprs.append(f"exp({q(rand_decimal_text(r, 2, 6))}::numeric)")
        else:
            exprs.append(f"{f}({num()})")
    for _ in range(250):
        base = q(rand_decimal_text(r, 3, 4))
        ex = r.choice([str(r.randint(-12, 12)), q(rand_decimal_text(r, 1, 3))])
        exprs.append(f"power({base}::numeric, {ex}::numeric)")
        exprs.append(f"log({q(rand_decimal_text(r, 3, 3))}::numeric, {num()})")
    for _ in range(300):
        p = r.randint(1, 15)
        s = r.randint(-2, p)
        t = r.choice([f"numeric({p},{s})", "int2", "int4", "int8", "float4", "float8", "text"])
        exprs.append(f"{num()}::{t}")
    check(postgres_server, exprs)


_ALPHABET = "ab cAB_%\\xé ßÀ"


def rand_text(r: random.Random, n: int = 8) -> str:
    return "".join(r.choice(_ALPHABET) for _ in range(r.randint(0, n)))


def test_text_functions(postgres_server: PostgresServer) -> None:
    r = rng("text")
    exprs = []

    def s() -> str:
        return q(rand_text(r))

    def n() -> str:
        return str(r.randint(-4, 10))
    for _ in range(1000):
        exprs.append(r.choice([
            f"substr({s()}, {n()})", f"substr({s()}, {n()}, {n()})", f"left({s()}, {n()})",
            f"right({s()}, {n()})", f"lpad({s()}, {n()}, {s()})", f"rpad({s()}, {n()})",
            f"split_part({s()}, {s()}, {n()})", f"replace({s()}, {s()}, {s()})",
            f"position({s()} in {s()})", f"strpos({s()}, {s()})", f"btrim({s()}, {s()})",
            f"ltrim({s()})", f"rtrim({s()}, {s()})", f"initcap({s()})", f"upper({s()})",
            f"lower({s()})", f"repeat({s()}, {n()})", f"reverse({s()})", f"length({s()})",
            f"octet_length({s()})", f"concat({s()}, {n()}, NULL, {s()})",
            f"concat_ws({s()}, {s()}, {n()})", f"{s()} || {n()}", f"md5({s()})",
            f"ascii({s()})", f"translate({s()}, {s()}, {s()})", f"starts_with({s()}, {s()})",
            f"{s()}::varchar({r.randint(1, 5)})", f"{s()}::char({r.randint(1, 5)})",
            f"{s()}::char({r.randint(1, 5)}) = {s()}::char({r.randint(1, 5)})",
            f"{s()} < {s()}", f"{s()} LIKE {s()}", f"{s()} ILIKE {s()}",
            f"{s()} LIKE {s()} ESCAPE {q(r.choice(['', 'x', '%', '_', 'a', chr(92)]))}",
            f"{s()} NOT LIKE {s()}", f"chr({r.randint(-2, 70000)})"]))
    for _ in range(200):
        raw = rand_text(r, 6)
        hexed = "\\x" + "".join(r.choice("0123456789abcdefG ") for _ in range(r.randint(0, 9)))
        esc = "".join(r.choice(["a", "\\\\", "\\101", "\\1", "\\477", "é", "\\"])
                      for _ in range(r.randint(0, 4)))
        exprs.append(f"{q(r.choice([raw, hexed, esc]))}::bytea")
    check(postgres_server, exprs)


def rand_timestamp_text(r: random.Random, with_zone: bool) -> str:
    y = r.choice([r.randint(1, 9999), r.randint(1900, 2100), r.randint(1960, 2040)])
    mo, d = r.randint(1, 12), r.randint(1, 31 if r.random() < 0.1 else 28)
    h, mi, s = r.randint(0, 23), r.randint(0, 59), r.randint(0, 59)
    frac = r.choice(["", "", f".{r.randint(0, 999999):06d}", f".{r.randint(0, 9)}"])
    style = r.random()
    if style < 0.5:
        text = f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}{frac}"
    elif style < 0.6:
        text = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}{frac and ':00'}"
    elif style < 0.7:
        text = f"{mo}/{d}/{y:04d} {h % 12 or 12}:{mi:02d} {'PM' if h >= 12 else 'AM'}"
    elif style < 0.8:
        months = ["Jan", "February", "mar", "APR", "May", "June", "jul", "Aug", "Sept", "Oct",
                  "nov", "December"]
        text = f"{months[mo - 1]} {d} {y:04d} {h:02d}:{mi:02d}:{s:02d}"
    elif style < 0.9:
        text = f"{y:04d}{mo:02d}{d:02d} {h:02d}{mi:02d}{s:02d}"
    else:
        text = f"{y:04d}-{mo:02d}-{d:02d}"
    if with_zone and r.random() < 0.6:
        text += r.choice([" +02", "-08:00", "+05:30", " Z", " UTC", " PST", " EDT",
                          " America/Chicago", " Europe/London", "+0930", " CET", " MSK"])
    return text


def rand_interval_text(r: random.Random) -> str:
    style = r.random()
    if style < 0.55:
        units = ["year", "years", "mon", "months", "week", "day", "days", "hour", "hours",
                 "minute", "min", "second", "secs", "millisecond", "microseconds", "decade"]
        parts = []
        for _ in range(r.randint(1, 4)):
            v = r.choice([str(r.randint(-40, 40)), f"{r.uniform(-10, 10):.{r.randint(1, 4)}f}"])
            parts.append(f"{v} {r.choice(units)}")
        if r.random() < 0.3:
            parts.append(f"{r.randint(-30, 30):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}")
        if r.random() < 0.1:
            parts.append("ago")
        return " ".join(parts)
    if style < 0.8:
        return (f"P{r.randint(0, 5)}Y{r.randint(0, 20)}M{r.randint(0, 40)}DT{r.randint(0, 30)}"
                f"H{r.randint(0, 70)}M{r.uniform(0, 70):.{r.randint(0, 3)}f}S")
    return r.choice(["1-2", "-1-11", "3 4:05:06", "-1 +02:03", "1.5", "1:2:3.25", "@ 1 day ago",
                     "P1.5W", "PT1.5H", "1 fortnight", "1 day 1 day", "", "ago"])


def test_datetime_input_and_output(postgres_server: PostgresServer) -> None:
    r = rng("datetime-in")
    for tz in ZONES[:4]:
        exprs = []
        for _ in range(120):
            exprs.append(f"{q(rand_timestamp_text(r, False))}::timestamp")
            exprs.append(f"{q(rand_timestamp_text(r, True))}::timestamptz")
            exprs.append(f"{q(rand_timestamp_text(r, False))}::date")
            exprs.append(f"{q(rand_interval_text(r))}::interval")
        for _ in range(60):
            h, mi, s = r.randint(0, 23), r.randint(0, 60), r.randint(0, 59)
            exprs.append(f"{q(f'{h}:{mi:02d}:{s:02d}.{r.randint(0, 999)}')}::time")
        check(postgres_server, exprs, tz)


_TO_CHAR_BITS = ["YYYY", "YY", "MM", "DD", "HH24", "HH12", "HH", "MI", "SS", "MS", "US", "AM",
                 "pm", "Mon", "MONTH", "Month", "Dy", "Day", "DAY", "DDD", "IW", "IYYY", "Q",
                 "CC", "J", "W", "WW", "D", "ID", "SSSS", "RM", "FMDD", "FMMonth", "DDth",
                 "FMHH12", "Y,YYY", "TZ", "OF", " ", "-", ":", "/", '"at"', ".", "TZH:TZM"]
_UNITS = ["microseconds", "milliseconds", "second", "minute", "hour", "day", "week", "month",
          "quarter", "year", "decade", "century", "millennium"]
_EXTRACT = _UNITS + ["dow", "isodow", "doy", "epoch", "julian", "isoyear", "timezone",
                     "timezone_hour", "timezone_minute"]


def test_datetime_arithmetic_and_functions(postgres_server: PostgresServer) -> None:
    r = rng("datetime-fn")
    for tz in ZONES:
        exprs = []

        def ts() -> str:
            return q(f"{r.randint(1800, 2200):04d}-{r.randint(1, 12):02d}-"
                     f"{r.randint(1, 28):02d} {r.randint(0, 23):02d}:{r.randint(0, 59):02d}:"
                     f"{r.randint(0, 59):02d}.{r.randint(0, 999999):06d}")

        def iv() -> str:
            return q(rand_interval_text(r)) + "::interval"
        for _ in range(70):
            exprs += [
                f"{ts()}::timestamp + {iv()}", f"{ts()}::timestamptz + {iv()}",
                f"{ts()}::timestamptz - {iv()}", f"{ts()}::timestamp - {ts()}::timestamp",
                f"{ts()}::timestamptz - {ts()}::timestamptz",
                f"{ts()}::date + {r.randint(-500, 500)}", f"{ts()}::date - {ts()}::date",
                f"{ts()}::date + {iv()}", f"{iv()} + {iv()}", f"{iv()} * {r.uniform(-3, 3):.3f}",
                f"{iv()} / {r.choice(['7', '3', '0.5', '-2'])}",
                f"date_trunc({q(r.choice(_UNITS))}, {ts()}::timestamp)",
                f"date_trunc({q(r.choice(_UNITS))}, {ts()}::timestamptz)",
                f"extract({r.choice(_EXTRACT)} from {ts()}::timestamp)",
                f"extract({r.choice(_EXTRACT)} from {ts()}::timestamptz)",
                f"extract({r.choice(_EXTRACT)} from {ts()}::date)",
                f"extract({r.choice(_EXTRACT)} from {iv()})",
                f"date_part({q(r.choice(_EXTRACT))}, {ts()}::timestamptz)",
                f"age({ts()}::timestamp, {ts()}::timestamp)",
                f"age({ts()}::timestamptz, {ts()}::timestamptz)",
                f"to_char({ts()}::timestamptz, "
                f"{q(''.join(r.choice(_TO_CHAR_BITS) for _ in range(r.randint(1, 6))))})",
                f"{ts()}::timestamptz::timestamp", f"{ts()}::timestamp::timestamptz",
                f"{ts()}::timestamptz::date", f"{ts()}::timestamptz::time",
                f"{ts()}::timestamptz AT TIME ZONE {q(r.choice(ZONES))}",
                f"justify_interval({iv()})", f"justify_hours({iv()})", f"justify_days({iv()})",
                f"{iv()} < {iv()}", f"{ts()}::date < {ts()}::timestamptz",
            ]
        check(postgres_server, exprs, tz)


def rand_json(r: random.Random, depth: int = 0) -> object:
    k = r.random()
    if depth > 2 or k < 0.45:
        return r.choice([None, True, False, r.randint(-1000, 1000), r.uniform(-1e3, 1e3),
                         rand_text(r, 4), "", "a", 1, 0, "1"])
    if k < 0.7:
        return [rand_json(r, depth + 1) for _ in range(r.randint(0, 4))]
    return {r.choice(["a", "b", "aa", "ab", "é", "", "key"]): rand_json(r, depth + 1)
            for _ in range(r.randint(0, 4))}


def test_json_operators(postgres_server: PostgresServer) -> None:
    r = rng("json")
    exprs = []

    def doc() -> str:
        text = json.dumps(rand_json(r), ensure_ascii=r.random() < 0.5,
                          separators=r.choice([(",", ":"), (", ", ": "), (" ,", " : ")]))
        return q(text)
    for _ in range(700):
        key = q(r.choice(["a", "b", "aa", "", "key", "x"]))
        path = q("{" + ",".join(r.choice(["a", "b", "0", "1", "-1", "aa"])
                                for _ in range(r.randint(1, 3))) + "}")
        t = r.choice(["json", "jsonb"])
        exprs.append(r.choice([
            f"{doc()}::{t}", f"{doc()}::{t} -> {key}", f"{doc()}::{t} ->> {key}",
            f"{doc()}::{t} -> {r.randint(-3, 3)}", f"{doc()}::{t} ->> {r.randint(-3, 3)}",
            f"{doc()}::{t} #> {path}", f"{doc()}::{t} #>> {path}",
            f"{doc()}::jsonb @> {doc()}::jsonb", f"{doc()}::jsonb ? {key}",
            f"{doc()}::jsonb || {doc()}::jsonb", f"{doc()}::jsonb - {key}",
            f"{doc()}::jsonb = {doc()}::jsonb", f"{doc()}::jsonb < {doc()}::jsonb",
            f"jsonb_typeof({doc()})", f"json_typeof({doc()})", f"jsonb_array_length({doc()})",
            f"jsonb_build_object({key}, {doc()}::jsonb, {key}, {r.randint(0, 9)})",
            f"json_build_object({key}, {doc()}::json, 'n', NULL)",
            f"jsonb_build_array({doc()}::jsonb, {key})"]))
    check(postgres_server, exprs)


def test_generators_are_deterministic() -> None:
    a = [rand_interval_text(rng("x")) for _ in range(5)]
    b = [rand_interval_text(rng("x")) for _ in range(5)]
    assert a == b
