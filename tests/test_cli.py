"""The dsql command: --version, clock, and the bench entry point on its quickest run.

Method: run the installed console script as a user would and check what it prints and writes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dsql

DSQL = [sys.executable, "-m", "dsql.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DSQL, *args], capture_output=True, text=True, timeout=300)


def test_version() -> None:
    out = run("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"dsql {dsql.__version__}"


def test_clock_json_reports_source_status_bound_and_cost() -> None:
    out = run("clock", "--json", "--source", "system")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["source"] == "system"
    assert info["status"] in ("synchronized", "unknown")
    assert info["earliest_ns"] <= info["latest_ns"]
    assert info["bound_ns"] == (info["latest_ns"] - info["earliest_ns"]) // 2
    assert info["read_cost_ns"] > 0
    assert info["selection"][-1].startswith("system: using")


def test_bench_lists_and_rejects_unknown() -> None:
    listed = run("bench")
    assert listed.returncode == 0 and "clock" in listed.stdout
    bad = run("bench", "no-such-benchmark")
    assert bad.returncode == 2 and "no benchmark named" in bad.stderr


def test_bench_clock_quick_writes_json(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    out = run("bench", "clock", "--quick", "--json", str(path))
    assert out.returncode == 0, out.stderr
    report = json.loads(path.read_text())
    assert report["benchmark"] == "clock" and report["quick"] is True
    names = {r["name"] for r in report["results"]}
    assert {"clock.read.cpp.system", "clock.read.python.system"} <= names
    for r in report["results"]:
        assert r["value"] > 0 and r["unit"]
        if "baseline" in r:
            assert abs(r["ratio"] - r["value"] / r["baseline"]) < 1e-9
