"""SQL value functions per call: input, output and arithmetic against plain Python baselines.

The executor calls these once per row, so their cost over the bare Python operation is what
matters; every result is a ratio to the closest plain-Python equivalent timed in the same run
(a + b, Decimal arithmetic, repr, isoformat, fromisoformat, int(), json.loads, re).
"""

from __future__ import annotations

import json as pyjson
import re
from datetime import date, datetime, timezone
from decimal import Decimal

from dsql.bench.harness import Result, best_ns_per_call

from dsql.sql.functions import catalog
from dsql.sql.functions import string as fstr
from dsql.sql.types import datetime as dt
from dsql.sql.types import floating, integer, json, numeric
from dsql.sql.types import registry as r
from dsql.sql.types.context import ValueContext
from dsql.sql.types.timezones import zone_for

DESCRIPTION = "per-call cost of SQL value input/output/arithmetic against plain Python"


def run(quick: bool) -> list[Result]:
    calls = 20_000 if quick else 200_000
    repeats = 3 if quick else 5
    utc = ValueContext()
    ny = ValueContext(timezone=zone_for("America/New_York"), timezone_name="America/New_York")
    a_dec, b_dec = Decimal("12345.678"), Decimal("3.25")
    ts = datetime(2024, 5, 6, 7, 8, 9, 123456)
    tstz = ts.replace(tzinfo=timezone.utc)
    doc = '{"id": 17, "name": "widget", "tags": ["a", "b"], "price": 12.50, "ok": true}'
    like = fstr.like_matcher("%wid_et%")
    rx = re.compile(r".*wid.et.*", re.DOTALL)
    add = catalog.resolve_operator("+", [r.INT4, r.INT4]).bind(utc)

    def t(fn: object) -> float:
        return best_ns_per_call(fn, calls, repeats)  # type: ignore[arg-type]

    cases = [
        ("int4_add", lambda: integer.int4_add(1234, 5678), "a + b",
         lambda: (lambda x, y: x + y)(1234, 5678)),
        ("resolved_int4_plus", lambda: add(1234, 5678), "a + b",
         lambda: (lambda x, y: x + y)(1234, 5678)),
        ("int4_in", lambda: integer.int4_in("123456"), "int()", lambda: int("123456")),
        ("numeric_add", lambda: numeric.numeric_add(a_dec, b_dec), "Decimal +",
         lambda: a_dec + b_dec),
        ("numeric_div", lambda: numeric.numeric_div(a_dec, b_dec), "Decimal /",
         lambda: a_dec / b_dec),
        ("numeric_in", lambda: numeric.numeric_in("12345.678"), "Decimal()",
         lambda: Decimal("12345.678")),
        ("numeric_out", lambda: numeric.numeric_out(a_dec), "str(Decimal)", lambda: str(a_dec)),
        ("float8_out", lambda: floating.float8_out(1234.5678), "repr(float)",
         lambda: repr(1234.5678)),
        ("float8_in", lambda: floating.float8_in("1234.5678"), "float()",
         lambda: float("1234.5678")),
        ("date_in_iso", lambda: dt.date_in("2024-05-06", utc), "date.fromisoformat",
         lambda: date.fromisoformat("2024-05-06")),
        ("timestamp_in_iso", lambda: dt.timestamp_in("2024-05-06 07:08:09.123456", utc),
         "datetime.fromisoformat", lambda: datetime.fromisoformat("2024-05-06 07:08:09.123456")),
        ("timestamp_in_text_month", lambda: dt.timestamp_in("May 6 2024 7:08 PM", utc),
         "datetime.fromisoformat", lambda: datetime.fromisoformat("2024-05-06 19:08:00")),
        ("timestamp_out", lambda: dt.timestamp_out(ts), "isoformat",
         lambda: ts.isoformat(" ")),
        ("timestamptz_out_utc", lambda: dt.timestamptz_out(tstz, utc), "isoformat",
         lambda: tstz.isoformat(" ")),
        ("timestamptz_out_new_york", lambda: dt.timestamptz_out(tstz, ny), "isoformat",
         lambda: tstz.isoformat(" ")),
        ("jsonb_in", lambda: json.jsonb_in(doc), "json.loads", lambda: pyjson.loads(doc)),
        ("like_matcher", lambda: like("a widget here"), "re.fullmatch",
         lambda: rx.fullmatch("a widget here")),
    ]
    out = []
    for name, fn, base_name, base in cases:
        value = t(fn)
        baseline = t(base)
        out.append(Result(f"values.{name}", value, "ns/call", baseline=baseline,
                          baseline_name=base_name))
    return out
