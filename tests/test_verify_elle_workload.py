"""The list-append runner over a PEP 249 connection, driven against a fake driver.

Goal: run_list_append records a well-formed history whatever the driver does -- serialization
failures become `fail` ops and are retried with fresh values, a COMMIT with an unknown outcome
becomes `info` and the client continues as a new process, other errors are `fail` and are
reported -- and the checker judges those histories correctly: a correct SI engine passes
(strong SI), an engine with lost updates is caught. Method: the fake driver in
list_append_fake_db.py runs the simulated engine under real client threads; we inspect the
history's shape and run the checker on it.
"""

from __future__ import annotations

import pytest

from dsql.verify.elle import check
from dsql.verify.history import FAIL, INFO, INVOKE, OK, pair_transactions
from dsql.verify.sim_engine import Flaw
from dsql.verify.workload import parse_list, run_list_append, sqlstate_of
from list_append_fake_db import FakeDB


def _shape_ok(history: list) -> None:
    """Indices follow times; every invoke completes; append values are unique."""
    assert [op.index for op in history] == list(range(len(history)))
    times = [op.time_ns for op in history]
    assert times == sorted(times)
    txns = pair_transactions(history)  # raises on duplicate values or double invokes
    assert sum(op.type == INVOKE for op in history) == len(txns)


def test_correct_engine_passes_and_conflicts_are_retried() -> None:
    db = FakeDB()
    run = run_list_append(db.connect, clients=4, txns=150, keys=3, seed=7)
    assert run.errors == []
    _shape_ok(run.history)
    assert run.count(OK) >= 140  # a transaction gives up only after 10 conflicts in a row
    assert run.count(FAIL) > 0, "4 clients on 3 keys conflict"
    result = check(run.history)
    assert result.valid and result.strong_valid, result.report()
    last = run.history[-1]
    assert last.type == OK and [m.key for m in last.value] == [0, 1, 2]  # the final read


def test_lost_updates_are_caught() -> None:
    for seed in range(5):
        run = run_list_append(FakeDB(Flaw.LOST_UPDATE).connect, clients=4, txns=100, keys=2,
                              seed=seed)
        assert run.errors == [] and run.count(FAIL) == 0  # nothing ever conflicts
        if not check(run.history).valid:
            return
    pytest.fail("five runs on an engine that loses updates all passed")


def test_unknown_commit_outcome_is_info_and_the_client_moves_on() -> None:
    db = FakeDB(lost_ack_every=5)
    run = run_list_append(db.connect, clients=3, txns=60, keys=3, seed=2)
    _shape_ok(run.history)
    infos = [op for op in run.history if op.type == INFO]
    assert infos and len(run.errors) == len(infos)
    assert all("08006" in e or "connection lost" in e for e in run.errors)
    assert any(isinstance(op.process, int) and op.process >= 3 for op in run.history
               if op.type == OK), "a client continues under a new process id"
    assert db.connections > 3 + 1 + 1  # reconnects happened (plus setup and final read)
    result = check(run.history)  # the lost acks did commit: the final read shows them
    assert result.valid and result.strong_valid, result.report()


def test_other_errors_are_failures_and_reported() -> None:
    run = run_list_append(FakeDB(statement_error_every=13).connect, clients=2, txns=40,
                          keys=2, seed=3)
    _shape_ok(run.history)
    assert run.errors and all("injected statement failure" in e for e in run.errors)
    assert run.count(FAIL) >= len(run.errors)
    assert check(run.history).valid


def test_arguments_are_checked() -> None:
    db = FakeDB()
    with pytest.raises(ValueError, match="plain identifier"):
        run_list_append(db.connect, table="lists; DROP TABLE x")
    with pytest.raises(ValueError):
        run_list_append(db.connect, clients=0)
    assert parse_list(None) == () and parse_list("") == () and parse_list("3,1,2") == (3, 1, 2)

    class Psycopg2Style(Exception):
        pgcode = "40P01"
    assert sqlstate_of(Psycopg2Style()) == "40P01" and sqlstate_of(ValueError()) is None
