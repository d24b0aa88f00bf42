"""Runs every data-driven SQL file in tests/sql/*.test (format: tests/sql_logic.py).

Goal: DDL, DML, queries, constraint errors and Aurora DSQL's transaction semantics, written as
statements with expected rows or SQLSTATEs. Method: one fresh database per file, named
sessions for interleaved transactions.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sql_logic import run_file

FILES = sorted((Path(__file__).parent / "sql").glob("*.test"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_sql_file(path: Path) -> None:
    run_file(path)
