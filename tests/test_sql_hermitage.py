"""Hermitage's isolation cases replayed through dsql sessions.

Goal: every anomaly Hermitage (Martin Kleppmann, github.com/ept/hermitage, CC BY 4.0; the
transcription in /work/shared/data/hermitage_postgres_si.json keeps its attribution) checks for
gives the outcome a snapshot-isolation, first-committer-wins engine must give: the rows every
SELECT returns, which transactions commit, and the final table.
Method: one fresh database per case, one session per transaction (T1, T2, T3), each step run
in the listed order. `set transaction isolation level X` is skipped: Aurora DSQL (and dsql)
has REPEATABLE READ only and rejects other levels with 0A000 (tests/sql/session.test), and
the file's expectations are for SI whatever level the script names. dsql takes the snapshot at
BEGIN, so where the file gives `rows_if_snapshot_at_begin` that is the expected answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dsql.engine import Database
from dsql.errors import DsqlError
from dsql.session import Session

# shared/ sits beside the repository (in CI too: a copy beside the clone).
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "hermitage_postgres_si.json"
if not DATA.exists():
    raise FileNotFoundError(f"{DATA} is missing: the Hermitage cases come from shared/data")
DOC: dict[str, Any] = json.loads(DATA.read_text())
assert len(DOC["cases"]) == 20, "Hermitage has 20 cases"


def _rows(res: Any) -> list[list[Any]]:
    return [list(r) for r in res.rows]


@pytest.mark.parametrize("case", DOC["cases"], ids=[c["id"] for c in DOC["cases"]])
def test_hermitage_case(case: dict[str, Any]) -> None:
    db = Database.open(":memory:")
    try:
        setup = Session(db)
        for sql in DOC["setup"]:
            setup.execute(sql)
        sessions: dict[str, Session] = {}
        committed: set[str] = set()
        aborted: set[str] = set()
        for step in case["steps"]:
            txn = step["txn"]
            s = sessions.setdefault(txn, Session(db))
            expect = step.get("si_occ_expect") or {}
            for sql in [x.strip() for x in step["sql"].split(";") if x.strip()]:
                low = sql.lower()
                if low.startswith("set transaction isolation level"):
                    continue
                try:
                    res = s.execute(sql)
                except DsqlError as e:
                    assert e.sqlstate in ("40001", "25P02"), (case["id"], sql, e.sqlstate, e)
                    aborted.add(txn)
                    continue
                if low == "commit":
                    if res.command_tag == "COMMIT":
                        committed.add(txn)
                    else:
                        aborted.add(txn)
                if low.startswith("select") and txn not in aborted:
                    want = expect.get("rows_if_snapshot_at_begin", expect.get("rows"))
                    if want is not None:
                        assert _rows(res) == want, (case["id"], txn, sql)
        out = case["si_occ_expect"]
        for t in out["committed"]:
            assert t in committed, (case["id"], t, "should have committed")
        for t in out["must_not_commit"]:
            assert t not in committed, (case["id"], t, "must not commit")
        final = _rows(Session(db).execute("select * from test order by id"))
        assert final == out["final_rows"], case["id"]
    finally:
        db.close()
