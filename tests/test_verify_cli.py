"""`dsql verify`: the command runs the checks, prints the table, writes JSON, sets the status.

Goal: `dsql verify --quick` runs its checks and reports them; a failing check makes the exit
status non-zero; the simulation row passes on a clean run and fails when the simulation reports
an anomaly. Method: the cheap checks run
for real in-process (the rest are exercised by their own test files), and a patched check
stands in for a failure.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsql.cli import main
from dsql.verify import suite


def test_verify_quick_runs_and_writes_json(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out_path = tmp_path / "v.json"
    sizes = suite.Sizes(elle_runs=1, elle_clients=4, elle_txns=120, inv_ops=60,
                        inv_clients=3, kills=1)
    original = suite.Sizes.quick
    try:
        suite.Sizes.quick = staticmethod(lambda kills=None: sizes)  # type: ignore[method-assign]
        code = main(["verify", "--quick", "--seed", "3", "--json", str(out_path),
                     "--only", "elle-embedded", "--only", "invariants-embedded",
                     "--only", "simulation"])
    finally:
        suite.Sizes.quick = original  # type: ignore[method-assign]
    text = capsys.readouterr().out
    data = json.loads(out_path.read_text())
    assert data["seed"] == 3
    by_name = {c["check"]: c for c in data["checks"]}
    assert by_name["invariants-embedded"]["result"] == "pass", text
    assert by_name["invariants-embedded"]["runs"] == 3
    # one short elle run may or may not show write skew; its anomalies must be G2-item only
    assert by_name["elle-embedded"]["anomalies"] == 0, text
    assert by_name["simulation"]["result"] == "pass", text
    assert by_name["simulation"]["checked"] > 0
    assert "check" in text and "anomalies" in text and "result:" in text
    want = 0 if all(c["result"] != "FAIL" for c in data["checks"]) else 1
    assert code == want


def test_a_failing_check_fails_the_command(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    def broken(sizes: suite.Sizes, seed: int, log: suite.Log) -> suite.Row:
        raise RuntimeError("injected")

    monkeypatch.setitem(suite.CHECKS, "crash-loop", broken)
    code = main(["verify", "--quick", "--seed", "1", "--only", "crash-loop"])
    text = capsys.readouterr().out
    assert code == 1
    assert "FAIL" in text and "injected" in text


def test_a_simulation_anomaly_fails_its_row(monkeypatch: pytest.MonkeyPatch) -> None:
    from dsql.verify import sim

    real = sim.run_quick

    def with_anomaly(seed: int) -> dict[str, object]:
        out = dict(real(seed, seeds=1))
        out["anomalies"] = ["G1c: injected for the test"]
        out["ok"] = False
        return out

    monkeypatch.setattr(sim, "run_quick", with_anomaly)
    row = suite.simulation(suite.Sizes.quick(), 1, print)
    assert row.result == "FAIL" and row.anomalies == 1
    assert "G1c" in row.note and "--seed 1" in row.note


def test_bad_arguments() -> None:
    with pytest.raises(SystemExit):
        main(["verify", "--only", "nonsense"])
    assert main(["verify", "--kills", "0"]) == 2
