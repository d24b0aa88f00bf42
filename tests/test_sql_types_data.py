"""The value layer against the data files in tests/sql_types/ (expected results from PostgreSQL).

Goal: every expression in the files gives exactly PostgreSQL's text output, NULL, or error
(SQLSTATE and message). Method: each line is parsed and evaluated by tests/sql_expr.py over
dsql's types, casts and function catalog, in the session time zone the file sets; the expected
results were produced by a real PostgreSQL 15 (tests/sql_types/regen.py), and
test_types_differential.py re-checks them against a live server. Lines marked '!' hold dsql's
documented divergences (years outside 1..9999, time '24:00').
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from dsql.sql.types import timezones
from dsql.sql.types.context import ValueContext
from sql_expr import evaluate
from sql_types.cases import Case, all_files, load, outcome_key

CASES: list[Case] = [c for f in all_files() for c in load(f)]
_CTX: dict[str, ValueContext] = {}


def context_for(tz: str) -> ValueContext:
    if tz not in _CTX:
        zone = timezones.zone_for(tz)
        assert zone is not None, tz
        _CTX[tz] = ValueContext(timezone=zone, timezone_name=tz,
                                transaction_timestamp=datetime(2024, 5, 6, 7, 8, 9,
                                                               tzinfo=timezone.utc))
    return _CTX[tz]


def test_the_data_files_hold_many_cases() -> None:
    assert len(all_files()) >= 10
    assert len(CASES) > 1000


@pytest.mark.parametrize("case", CASES, ids=[f"{c.file}:{c.line}" for c in CASES])
def test_case(case: Case) -> None:
    got = evaluate(case.expr, context_for(case.timezone))
    key = outcome_key(got.value, got.sqlstate, got.message)
    assert key == case.expected, f"{case.expr}\n  dsql:     {key}\n  expected: {case.expected}"
