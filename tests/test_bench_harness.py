"""The benchmark harness on tiny sizes: it runs, its JSON and reports are complete.

Goal: every new workload (YCSB, contention sweep, bulk load, the pgbench sweep's plumbing) runs
through `harness.run("all", ...)`, writes well-formed JSON with the schema-2 fields and a
markdown report with PNG plots; the zipfian generator matches theory; the histogram's
percentiles match sorted samples within its bucket error. Method: shrink every workload's quick
sizes with monkeypatch, run them once (module-scoped), and check structure, never timings.
"""

from __future__ import annotations

import io
import json
import math
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from dsql.bench import (
    bulkload,
    contention,
    harness,
    histogram,
    keys,
    machine,
    pgbench_sweep,
    progress,
    servers,
    ycsb,
)
from dsql.bench import report as report_module

from dsql import cli

ROOT = Path(__file__).resolve().parents[1]


# ---- the zipfian generator ------------------------------------------------------------------

def test_zipfian_rank_frequencies_match_theory() -> None:
    """Over 100k draws with n=1000: ranks 0 and 1 (exact in Gray's algorithm) are within 4%
    (relative) of 1/((r+1)**theta * zeta(n)); the tail, which the algorithm approximates in
    closed form as YCSB does, stays within 6% cumulatively (top 10, 100, 500 ranks); draws are
    reproducible from the seed."""
    z = keys.Zipfian(1000, seed=3)
    draws = 100_000
    counts = Counter(z.next_rank() for _ in range(draws))
    for rank in (0, 1):
        expected = z.probability(rank) * draws
        assert abs(counts[rank] - expected) / expected < 0.04, (rank, counts[rank], expected)
    for top in (10, 100, 500):
        got = sum(counts[r] for r in range(top)) / draws
        expected = sum(z.probability(r) for r in range(top))
        assert abs(got - expected) / expected < 0.06, (top, got, expected)
    assert sum(z.probability(r) for r in range(1000)) == pytest.approx(1.0)
    assert all(0 <= r < 1000 for r in counts)
    a, b = keys.Zipfian(1000, seed=9), keys.Zipfian(1000, seed=9)
    assert [a.next_rank() for _ in range(100)] == [b.next_rank() for _ in range(100)]


def test_key_chooser_scrambles_and_forks_reproducibly() -> None:
    """Zipfian keys are a permutation of ranks (the hottest key is not key 0 by construction);
    forks share the permutation but have their own seeded streams; uniform covers [0, n)."""
    base = keys.KeyChooser(500, "zipfian", seed=1)
    f1, f1b, f2 = base.fork(1), base.fork(1), base.fork(2)
    s1 = [f1.next() for _ in range(2000)]
    assert s1 == [f1b.next() for _ in range(2000)]
    assert s1 != [f2.next() for _ in range(2000)]
    assert base.permutation is f1.permutation and sorted(base.permutation) == list(range(500))
    hottest = Counter(s1).most_common(1)[0][0]
    assert hottest == base.permutation[0]
    uni = keys.KeyChooser(50, "uniform", seed=1)
    assert set(uni.next() for _ in range(5000)) == set(range(50))
    with pytest.raises(ValueError):
        keys.KeyChooser(10, "gaussian")


# ---- the histogram --------------------------------------------------------------------------

def _true_percentile(sorted_values: list[int], p: float) -> int:
    rank = max(1, math.ceil(len(sorted_values) * p / 100))
    return sorted_values[rank - 1]


def test_histogram_percentiles_match_sorted_samples() -> None:
    """Log-normal latencies from 1 µs to ~1 s: every reported percentile is within one
    bucket's width (1/64 relative) of the exact percentile of the sorted samples; merge of two
    halves equals the whole; count, min, max and mean are exact."""
    rng = random.Random(5)
    values = [int(rng.lognormvariate(11, 2)) for _ in range(20_000)] + [0, 1, 63, 64, 65]
    whole, left, right = histogram.Histogram(), histogram.Histogram(), histogram.Histogram()
    for i, v in enumerate(values):
        whole.record(v)
        (left if i % 2 else right).record(v)
    left.merge(right)
    ordered = sorted(values)
    for p in (1, 10, 50, 90, 95, 99, 99.9, 100):
        exact = _true_percentile(ordered, p)
        got = whole.percentile(p)
        assert abs(got - exact) <= max(1.0, exact / histogram.SUB_COUNT), (p, got, exact)
        assert left.percentile(p) == got
    assert whole.count == len(values) and whole.min == 0 and whole.max == max(values)
    assert whole.mean() == pytest.approx(sum(values) / len(values))
    s = whole.summary_us()
    assert s["p50_us"] <= s["p95_us"] <= s["p99_us"] <= s["max_us"]


def test_histogram_buckets_are_monotonic_and_bounded() -> None:
    """bucket_of is monotonic and lower_bound(bucket_of(v)) <= v < lower_bound(next)."""
    rng = random.Random(1)
    values = sorted({0, 1, 63, 64, 65, 127, 128, 2**40, 2**63 - 1,
                     *(rng.getrandbits(rng.randrange(1, 63)) for _ in range(3000))})
    prev = -1
    for v in values:
        b = histogram.bucket_of(v)
        assert b >= prev
        prev = b
        assert histogram.lower_bound(b) <= v < histogram.lower_bound(b + 1)
    with pytest.raises(ValueError):
        histogram.Histogram().record(-1)


# ---- progress, machine, result schema --------------------------------------------------------

def test_progress_bar_shows_throughput_only_when_enabled() -> None:
    out = io.StringIO()
    progress.configure(True)
    try:
        bar = progress.Bar("ycsb A", total_ops=100, stream=out)
        bar._last_draw = -1.0
        bar.add(50)
        bar.close()
    finally:
        progress.configure(None)
    assert "ycsb A" in out.getvalue() and "ops/s" in out.getvalue() and "50%" in out.getvalue()
    quiet = io.StringIO()
    progress.configure(False)
    try:
        bar = progress.Bar("x", total_s=1.0, stream=quiet)
        bar.add(10)
        bar.close()
    finally:
        progress.configure(None)
    assert quiet.getvalue() == ""


def test_machine_description_has_the_fields(tmp_path: Path) -> None:
    d = machine.describe(tmp_path)
    for key in ("cpu", "cores", "memory_mib", "kernel", "python", "fdatasync_per_s",
                "dsql_version", "git_commit"):
        assert key in d
    assert d["fdatasync_per_s"] > 0 and d["cores"] >= 1
    assert machine.peak_rss_kb() and machine.peak_rss_kb() > 0


def test_result_schema_is_backward_compatible() -> None:
    """A result without the schema-2 fields serializes exactly as before."""
    old = harness.Result("x.y", 2.0, "ns", baseline=4.0, baseline_name="b")
    assert set(old.as_json()) == {"name", "value", "unit", "better", "baseline",
                                  "baseline_name", "ratio"}
    assert old.ratio == 0.5


# ---- the workloads, end to end on tiny sizes -------------------------------------------------

def _fake_pgbench(dsn: str, *, mode: str, clients: int, seconds: float, scale: int,
                  initialize: bool) -> dict[str, Any]:
    assert mode in pgbench_sweep.MODES and clients >= 1 and scale >= 1
    return {"tps": 100.0 * clients, "latency_avg_ms": 1.5, "failed": 0}


@pytest.fixture(scope="module")
def all_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    mp = pytest.MonkeyPatch()
    out = tmp_path_factory.mktemp("bench-report")
    try:
        mp.setattr(ycsb, "QUICK", ycsb.Sizes(rows=60, threads=2, rounds=1, seconds=0.03))
        mp.setattr(contention, "QUICK", contention.Sizes(threads=3, rounds=2, seconds=0.03,
                                                          hot=(10, 1)))
        mp.setattr(bulkload, "QUICK_ROWS", 2500)
        mp.setattr(pgbench_sweep, "find_runner", lambda: _fake_pgbench)
        mp.setattr(pgbench_sweep, "CLIENTS", (1, 4))
        mp.setattr(pgbench_sweep, "run", lambda quick: pgbench_sweep.run_sweep(
            0.01, 1, clients=(1, 4), modes=("select-only",)))
        names = {n: harness.available()[n]
                 for n in ("ycsb", "contention", "bulkload", "pgbench_sweep")}
        mp.setattr(harness, "available", lambda: names)
        with servers.shared():  # one dsql serve and one PostgreSQL for all four workloads
            harness.run("all", quick=True, json_path=str(out / "all-copy.json"),
                        report_dir=str(out))
    finally:
        mp.undo()
    return out, json.loads((out / "all.json").read_text())


def test_all_writes_json_with_every_workload(all_run: tuple[Path, dict[str, Any]]) -> None:
    out, report = all_run
    assert report["schema"] == 2 and report["benchmark"] == "all" and report["quick"] is True
    assert json.loads((out / "all-copy.json").read_text()) == report
    assert [m["name"] for m in report["modules"]] == ["ycsb", "contention", "bulkload",
                                                      "pgbench_sweep"]
    assert not [m for m in report["modules"] if "error" in m]
    for key in ("cpu", "cores", "memory_mib", "fdatasync_per_s", "kernel", "python",
                "dsql_version", "git_commit"):
        assert key in report["machine"]
    names = {r["name"] for r in report["results"]}
    for pair in ("embedded", "server"):
        for w in "ABCF":
            for d in ("uniform", "zipfian"):
                assert f"ycsb.{pair}.{w}.{d}" in names
    assert {"contention.K10", "contention.K1", "contention.embedded.K1", "bulkload.insert",
            "pgbench.select-only.c1", "pgbench.select-only.c4"} <= names
    bulk_notes = next(m for m in report["modules"] if m["name"] == "bulkload").get("notes", [])
    assert "bulkload.copy" in names or any("COPY" in n for n in bulk_notes)
    with_pg = servers.Postgres.available()
    for r in report["results"]:
        assert r["value"] >= 0 and r["unit"] and r["better"] == "higher" and r["group"]
        if r.get("baseline"):
            assert r["ratio"] == pytest.approx(r["value"] / r["baseline"])
        if not r["name"].startswith("pgbench"):
            lat = r["latency"]
            assert lat["count"] > 0 and lat["p50_us"] <= lat["p95_us"] <= lat["p99_us"]
            assert r["peak_rss_kb"] > 0
            assert r["extra"]["ops"] > 0 and 0 <= r["extra"]["abort_rate"] <= 1
    for r in report["results"]:
        if r["name"].startswith("ycsb."):
            ops = set(ycsb.MIXES[r["extra"]["workload"]])
            assert set(r["extra"]["latency_by_op"]) <= ops
            assert sum(s["count"] for s in r["extra"]["latency_by_op"].values()) == \
                r["extra"]["ops"]
        if r["name"].startswith("contention."):
            assert r["extra"]["invariant_ok"] is True
            if with_pg:
                assert r["extra"]["baseline_invariant_ok"] is True
                assert "abort_rate" in r["extra"]["baseline"]


def test_all_writes_markdown_report_and_plots(all_run: tuple[Path, dict[str, Any]]) -> None:
    out, report = all_run
    md = (out / "all.md").read_text()
    assert "fdatasync_per_s" in md and "## ycsb.embedded" in md and "## contention" in md
    for png in ("ycsb.embedded-throughput.png", "ycsb.server-latency.png", "contention.png",
                "contention.embedded.png",
                "bulkload-throughput.png", "pgbench.select-only-clients.png"):
        assert (out / png).stat().st_size > 1000, png
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({png})" in md


def test_pgbench_sweep_skips_with_a_note_without_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pgbench_sweep, "find_runner", lambda: None)
    assert pgbench_sweep.run(True) == []
    assert "skipped" in pgbench_sweep.NOTES[0] and "run_pgbench" in pgbench_sweep.NOTES[0]


# ---- the command line and the kernel suites -------------------------------------------------

def test_cli_lists_new_benchmarks_and_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench"]) == 0
    listed = capsys.readouterr().out
    for name in ("ycsb", "contention", "bulkload", "pgbench_sweep", "all"):
        assert name in listed
    for helper in ("histogram", "keys", "machine", "progress", "report", "driver", "kernels"):
        assert f"\n{helper} " not in "\n" + listed


def test_kernel_suites_run_but_stay_outside_the_test_suite() -> None:
    """testpaths keeps bench/kernels out of a bare `pytest`; `pytest bench/kernels` finds the
    five kernel suites, and they pass when run once each (--benchmark-disable: no timing)."""
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["tool"]["pytest"]["ini_options"]["testpaths"] == ["tests"]
    out = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider",
                          "--benchmark-disable", "bench/kernels"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    for suite in ("clock", "codec", "store", "adjudicator", "journal"):
        assert f"test_kernel_{suite}.py::" in out.stdout
    assert " failed" not in out.stdout and " passed" in out.stdout


def test_report_of_kernel_results_plots_their_ratios(tmp_path: Path) -> None:
    """Results without a group (the kernel benchmarks, schema 1 shape) get a table and one
    ratio plot; a result without a baseline is listed but not plotted."""
    results = [harness.Result("clock.read", 30.0, "ns/read", baseline=20.0, baseline_name="b"),
               harness.Result("clock.ts", 40.0, "ns", better="lower"),
               harness.Result("codec.scan", 3e6, "rows/s", better="higher", baseline=1e6,
                              baseline_name="struct")]
    report = {"benchmark": "kernels", "quick": True, "seconds": 1.0,
              "machine": {"cpu": "x", "cores": 2, "fdatasync_per_s": 100.0},
              "results": [r.as_json() for r in results]}
    path = report_module.write(report, tmp_path)
    md = path.read_text()
    assert path.name == "kernels.md" and "## clock" in md and "## codec" in md
    assert "| read | 30.0 ns/read | 20.0 (b) | 1.50x (lower better) |  |" in md
    assert (tmp_path / "ratios.png").read_bytes()[:4] == b"\x89PNG" and "](ratios.png)" in md
