"""Reading and writing the data files in tests/sql_types/ (shared by the runner and regen).

Format, one case per line:

    # a comment
    @timezone America/New_York        (applies to the cases that follow)
    1::int4 + 2 => 3
    'abc'::int4 => ERROR 22P02 invalid input syntax for type integer: "abc"
    NULL::int4 => NULL
    'ab'::char(4) => "ab  "             (JSON-quoted when the text needs it)
    !'24:00'::time => ERROR 22008 ...  (dsql-only expectation: a documented divergence,
                                         not compared with PostgreSQL)

An expected value is raw text unless it is empty, has leading or trailing whitespace or a
newline, starts with a double quote, or reads NULL / ERROR ...; then it is a JSON string.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Case:
    file: str
    line: int
    expr: str
    expected: str  # 'NULL', 'ERROR <sqlstate> <message>', or the text value
    timezone: str
    dsql_only: bool


def encode_value(text: str) -> str:
    if (not text or text != text.strip() or "\n" in text or text.startswith('"')
            or text == "NULL" or text.startswith("ERROR ")):
        return json.dumps(text, ensure_ascii=False)
    return text


def decode_expected(raw: str) -> str:
    if raw.startswith('"'):
        return "VALUE " + json.loads(raw)
    if raw == "NULL" or raw.startswith("ERROR "):
        return raw
    return "VALUE " + raw


def load(path: Path) -> list[Case]:
    cases = []
    tz = "UTC"
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("@timezone "):
            tz = line.split(None, 1)[1].strip()
            continue
        dsql_only = line.startswith("!")
        body = line[1:] if dsql_only else line
        if " => " not in body:
            raise ValueError(f"{path.name}:{n}: expected 'expression => result'")
        expr, raw = body.rsplit(" => ", 1)
        cases.append(Case(path.name, n, expr.strip(), decode_expected(raw.strip()), tz,
                          dsql_only))
    return cases


def all_files() -> list[Path]:
    return sorted(DATA_DIR.glob("*.txt"))


def outcome_key(value: str | None, sqlstate: str | None, message: str | None) -> str:
    """The comparable form of a result: 'NULL', 'ERROR <state> <msg>' or 'VALUE <text>'."""
    if sqlstate is not None:
        return f"ERROR {sqlstate} {message}"
    return "NULL" if value is None else "VALUE " + value


def render(key: str) -> str:
    return encode_value(key[6:]) if key.startswith("VALUE ") else key
